package jcds2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/inflight"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// uploadS3 gets credentials and uploads the file, hashing MD5 beside
// it (partSource). JCDS refusing the credentials, before any byte is
// sent, is a *credentialsRefused: the route rule decides again. The reads fail if the file changed, so the multipart
// upload is aborted rather than completed torn.
func (r *run) uploadS3(ctx context.Context) (md5 string, err error) {
	cr, err := r.c.NewJCDSUpload(ctx)
	var refusal *jamf.NoJCDSError
	if errors.As(err, &refusal) {
		return "", &credentialsRefused{refusal}
	}
	if err != nil {
		return "", err
	}
	l := r.local
	var acked atomic.Int64
	partSize, conc := partPlan(l.size, r.req.PartSize, r.req.Concurrency)
	client := newS3Client(s3Options{creds: cr, renew: r.c.RenewJCDS, endpoint: s3Endpoint(r.req.S3Endpoint),
		maxTries: r.req.MaxTries, insecure: r.req.Insecure, timeout: r.c.Timeout(), log: r.log,
		acked: func(n int64) { r.log.Progress(min(acked.Add(n), l.size), l.size) }, streams: conc})
	// Parts are read at their offsets, unbuffered; MD5 in a pass of its
	// own that must end, the file unchanged, before the upload completes.
	body, err := l.parts(ctx, partSize)
	if err != nil {
		return "", err
	}
	defer body.Close()
	key := cr.Path + r.req.PkgName
	r.log.Logf(0, "Uploading %s (%s) to JCDS in %s parts, %d at a time", r.req.PkgName, HumanBytes(l.size), HumanBytes(partSize), conc)
	start := time.Now()
	// The upload keeps a live context so that, when interrupted, the
	// uploader can still abort the multipart upload; ctxReader stops
	// feeding it as soon as ctx ends.
	if l.size > partSize { // smaller: one PutObject, which leaves nothing
		defer inflight.Leave(ctx, "a multipart upload of "+r.req.PkgName+" open in S3 (Jamf Pro never lists it)")()
	}
	upCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		// Parts in flight get two seconds after an interrupt; then they
		// are cut, and the abort runs on a deadline of its own.
		time.AfterFunc(2*time.Second, cancel)
	})
	defer stop()
	err = r.e.objects.Upload(upCtx, client, objectUpload{
		Bucket: cr.BucketName, Key: key, Body: body, Size: l.size, PartSize: partSize, Concurrency: conc, Before: body.hashed,
	})
	var changed *ChangedError
	var notAborted *AbortError
	switch {
	case errors.As(err, &changed):
		return "", changed
	case err != nil && ctx.Err() != nil && errors.As(err, &notAborted):
		return "", &InterruptedError{Step: "uploading to JCDS", Left: fmt.Sprintf("the multipart upload could not be aborted (%v): it stays open in S3 (Jamf Pro never lists it, and it holds no file of that name); nothing was changed in Jamf Pro", notAborted.Err)}
	case err != nil && ctx.Err() != nil:
		return "", &InterruptedError{Step: "uploading to JCDS", Left: "the multipart upload was aborted and nothing was changed in Jamf Pro"}
	case err != nil:
		return "", err
	}
	if md5, err = body.sum(); err != nil {
		return "", err // cannot happen: the upload completed only after the pass did
	}
	// The pass read the file unchanged (as upload_packages does with its
	// sums): the next round need not read it again to compare.
	l.learn(Hashes{MD5: md5})
	r.res.Uploading = time.Since(start)
	el := r.res.Uploading
	r.log.Logf(0, "Uploaded %s in %s (%s/s)", HumanBytes(l.size), el.Round(time.Millisecond), HumanBytes(int64(float64(l.size)/max(el.Seconds(), 0.001))))
	return md5, nil
}

// credentialsRefused: JCDS refused the upload credentials (the Create
// privilege, or no JCDS 2.0 after all); nothing was sent.
type credentialsRefused struct{ refusal *jamf.NoJCDSError }

func (e *credentialsRefused) Error() string { return e.refusal.Error() }
func (e *credentialsRefused) Unwrap() error { return e.refusal }

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("upload interrupted: %w", err)
	}
	return c.r.Read(b)
}

// awaitFile waits until JCDS lists our bytes under the name: JCDS
// hashes what it stored, so a match proves what arrived is what was
// read. It only learns: the next round sees the listing and plans the
// record (with that hash), and the removal of any Name_N copy.
//
// When the name comes to hold other bytes that this run did not find
// there (another run's upload took it), this run lost: it waits, at
// most 30 s, for its own copy to show (JCDS puts it at Name_N) so that
// the next round can remove it, and records the winner's MD5 as a fact,
// so that the plan converges on the winner instead of replacing it.
// Nothing listed within the verify timeout makes the upload pending.
func (r *run) awaitFile(ctx context.Context, w *world, want string) facts {
	name := r.req.PkgName
	stale := ""
	if w.file != nil {
		stale = w.file.MD5 // deleted by this run; a lagging listing may still show it
	}
	landed, winner, lostAt := false, "", time.Time{}
	r.poll(ctx, "JCDS to process the upload", func() bool {
		files, err := r.c.ListJCDS(ctx)
		if err != nil {
			return false
		}
		f := findFile(name, files)
		switch {
		case f != nil && SameHash(f.MD5, want):
			landed = true
			r.saw(files) // the next look's listing (observe.go)
			return true
		case f != nil && f.MD5 != "" && !SameHash(f.MD5, stale):
			if winner == "" {
				winner, lostAt = f.MD5, time.Now()
				r.log.Logf(0, "Another run's upload of %s reached JCDS first (md5 %s): this run lost, and leaves that one", name, f.MD5)
			}
			for _, d := range duplicatesOf(name, files) {
				if SameHash(d.MD5, want) {
					return true // our copy is there, for the next round to remove
				}
			}
			return time.Since(lostAt) >= 30*time.Second
		}
		return false
	})
	switch {
	case landed:
		r.log.Logf(1, "Verified: JCDS lists %s with md5 %s", name, want)
		return facts{uploaded: true}
	case winner != "":
		return facts{uploaded: true, lostTo: winner}
	}
	return facts{uploaded: true, pending: true}
}

// awaitEarlier waits, at most the verify timeout (30 s at most), for a
// file an earlier run uploaded to appear under the name. The next round
// sees whether it did.
func (r *run) awaitEarlier(ctx context.Context) facts {
	deadline := time.Now().Add(min(r.req.VerifyTimeout, 30*time.Second))
	r.poll(ctx, "an earlier upload to be processed", func() bool {
		if time.Now().After(deadline) {
			return true
		}
		files, err := r.c.ListJCDS(ctx)
		return err == nil && findFile(r.req.PkgName, files) != nil
	})
	return facts{waited: true}
}
