package jcds2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/inflight"
)

// uploadPackage streams the file through POST /api/v1/packages/{id}/upload,
// hashing MD5 and SHA3-512 in the same read pass. The reader fails
// before the last byte if the file changed, so Jamf Pro never receives
// a complete body of a torn file. A record this run created is deleted
// again when its upload fails (engine.go, undo): no record without a
// file is left.
func (r *run) uploadPackage(ctx context.Context, w *world) (facts, error) {
	l := r.local
	var pipe *Hasher
	open := func() (io.ReadCloser, error) {
		var done int64
		f, err := l.open(func(n int64) { done += n; r.log.Progress(done, l.size) })
		if err != nil {
			return nil, err
		}
		pipe = NewHasher(true, true)
		return readCloser{io.TeeReader(&ctxReader{ctx: ctx, r: f}, pipe), f}, nil
	}
	r.log.Logf(0, "Uploading %s (%s) through the Jamf Pro packages API", r.req.PkgName, HumanBytes(l.size))
	start := time.Now()
	// What a run stopped at once now leaves: the record, its file not
	// yet uploaded (a plain run finishes it).
	defer inflight.Leave(ctx, fmt.Sprintf("the package record %s (id %s), its file not yet uploaded through the packages API", r.req.PkgName, r.res.PkgID))()
	err := r.c.UploadPackage(ctx, r.res.PkgID, r.req.PkgName, l.size, open)
	var sums Hashes
	if pipe != nil {
		sums = pipe.Sums()
	}
	if err != nil {
		var changed *ChangedError
		if errors.As(err, &changed) {
			err = changed
		} else if ctx.Err() != nil {
			err = &InterruptedError{Step: "uploading through the packages API", Left: "the upload was cut off before Jamf Pro accepted it"}
		}
		return facts{}, err
	}
	r.res.Uploading = time.Since(start)
	l.learn(sums)
	r.log.Logf(0, "Uploaded %s in %s", HumanBytes(l.size), r.res.Uploading.Round(time.Millisecond))
	return facts{sentPackages: true}, nil
}

// undoCreate deletes the record this run created, if any.
func (r *run) undoCreate(ctx context.Context, cause error) error {
	if r.learned.createdID == "" {
		return cause
	}
	// Until it is deleted, a run stopped at once leaves the record, its
	// file not uploaded (a plain run finishes it).
	defer inflight.Leave(ctx, fmt.Sprintf("the package record %s (id %s), its file not yet uploaded through the packages API", r.req.PkgName, r.learned.createdID))()
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.c.DeletePackage(cleanup, r.learned.createdID); err != nil {
		r.log.Logf(0, "WARNING: could not delete the new record %s after the failed upload (%v); the next run repairs it", r.learned.createdID, err)
		return cause
	}
	r.res.PkgID, r.learned.createdID = "", ""
	r.learned.add(facts{recordUndone: true})
	var ie *InterruptedError
	if errors.As(cause, &ie) {
		ie.Left += "; the record this run created was deleted again, so nothing changed"
		return ie
	}
	return fmt.Errorf("%w; the record this run created was deleted again", cause)
}

type readCloser struct {
	io.Reader
	io.Closer
}
