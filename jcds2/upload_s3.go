package jcds2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// uploadS3 gets credentials and uploads the file, hashing MD5 in the
// same read pass. The reader fails before EOF if the file changed, so
// the multipart upload is aborted rather than completed torn.
func (r *run) uploadS3(ctx context.Context) error {
	cr, err := r.c.NewJCDSUpload(ctx)
	if err != nil {
		return r.refused(err)
	}
	l := r.local
	var acked atomic.Int64
	client := newS3Client(s3Options{creds: cr, renew: r.c.RenewJCDS, endpoint: s3Endpoint(r.req.S3Endpoint),
		maxTries: r.req.MaxTries, insecure: r.req.Insecure, timeout: r.c.Timeout(), log: r.log,
		acked: func(n int64) { r.log.Progress(min(acked.Add(n), l.size), l.size) }})
	partSize, conc := partPlan(l.size, r.req.PartSize, r.req.Concurrency)
	f, err := l.open(nil)
	if err != nil {
		return err
	}
	defer f.Close()
	pipe := NewHasher(true, false)
	body := &ctxReader{ctx: ctx, r: io.TeeReader(f, pipe)}
	key := cr.Path + r.req.PkgName
	r.log.Logf(0, "Uploading %s (%s) to JCDS in %s parts, %d at a time", r.req.PkgName, HumanBytes(l.size), HumanBytes(partSize), conc)
	start := time.Now()
	// The upload keeps a live context so that, when interrupted, the
	// uploader can still abort the multipart upload; ctxReader stops
	// feeding it as soon as ctx ends.
	upCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		// Parts in flight get two seconds after an interrupt; then they
		// are cut, and the abort runs on a deadline of its own.
		time.AfterFunc(2*time.Second, cancel)
	})
	defer stop()
	err = r.e.objects.Upload(upCtx, client, objectUpload{
		Bucket: cr.BucketName, Key: key, Body: body, Size: l.size, PartSize: partSize, Concurrency: conc,
	})
	sent := pipe.Sums()
	var changed *ChangedError
	switch {
	case errors.As(err, &changed):
		return changed
	case err != nil && ctx.Err() != nil:
		return &InterruptedError{Step: "uploading to JCDS", Left: "the multipart upload was aborted and nothing was changed in Jamf Pro"}
	case err != nil:
		return err
	}
	r.sentMD5 = sent.MD5
	r.res.Uploading = time.Since(start)
	el := r.res.Uploading
	r.log.Logf(0, "Uploaded %s in %s (%s/s)", HumanBytes(l.size), el.Round(time.Millisecond), HumanBytes(int64(float64(l.size)/max(el.Seconds(), 0.001))))
	return nil
}

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

// awaitFile waits until JCDS lists our bytes under the name: only then
// may the record claim their hash. JCDS hashes what it stored, so a
// match also proves what arrived is what was read. An upload JCDS put
// at Name_N (another run's file arrived first) is ours to remove when
// it holds our bytes and the name holds them too.
//
// When the name comes to hold other bytes that this run did not find
// there (another run's upload took it), this run lost: it removes its
// own copy once JCDS shows it (JCDS puts it at Name_N), writes no
// record, and ends the round (errReobserve) with the winner's MD5 as a
// fact, so the plan converges on the winner instead of replacing it.
func (r *run) awaitFile(ctx context.Context, w *world) error {
	name, want := r.req.PkgName, r.sentMD5
	stale := ""
	if w.file != nil {
		stale = w.file.MD5 // deleted by this run; a lagging listing may still show it
	}
	var got *jamf.FileData
	winner, lostAt := "", time.Time{}
	r.poll(ctx, "JCDS to process the upload", func() bool {
		files, err := r.c.ListJCDS(ctx)
		if err != nil {
			return false
		}
		f := findFile(name, files)
		var ours []jamf.FileData
		for _, d := range duplicatesOf(name, files) {
			if SameHash(d.MD5, want) && !w.listed[d.FileName] {
				ours = append(ours, d) // born during this run, with our bytes
			}
		}
		switch {
		case f != nil && SameHash(f.MD5, want):
			got = f
		case f != nil && f.MD5 != "" && !SameHash(f.MD5, stale):
			// Another run's bytes hold the name. Ours arrive, if at all,
			// as a copy; wait for it a little (at most 30 s), no longer.
			if winner == "" {
				winner, lostAt = f.MD5, time.Now()
				r.log.Logf(0, "Another run's upload of %s reached JCDS first (md5 %s): this run lost, and leaves that one", name, f.MD5)
			}
			if len(ours) == 0 && time.Since(lostAt) < 30*time.Second {
				return false
			}
		default:
			return false
		}
		orphans, err := r.orphans(ctx, ours) // never a file a record names
		if err != nil {
			return true
		}
		for _, d := range orphans {
			if err := r.c.DeleteJCDS(ctx, d.FileName); err == nil {
				r.log.Logf(0, "JCDS stored this run's upload as %s (another upload arrived first); removed that copy", d.FileName)
			}
		}
		return true
	})
	if winner != "" && got == nil {
		r.lostTo = winner
		r.res.Uploaded = false
		return errReobserve
	}
	if got == nil {
		r.log.Logf(0, "JCDS has not yet listed %s with the uploaded hash; the record will claim no hash until Jamf Pro has processed it", name)
		return nil
	}
	h := Hashes{MD5: want}
	if len(got.SHA3) == 128 {
		h.SHA3 = got.SHA3
	}
	r.local.learn(h)
	r.fileVerified = true
	w.file = got
	r.log.Logf(1, "Verified: JCDS lists %s with md5 %s", name, got.MD5)
	return nil
}

// awaitEarlier waits, at most the verify timeout (30 s at most), for a
// file an earlier run uploaded to appear under the name; it reports
// whether one did (then nothing is uploaded over it).
func (r *run) awaitEarlier(ctx context.Context, w *world) bool {
	deadline := time.Now().Add(min(r.req.VerifyTimeout, 30*time.Second))
	var got *jamf.FileData
	r.poll(ctx, "an earlier upload to be processed", func() bool {
		if time.Now().After(deadline) {
			return true // stop waiting: upload
		}
		files, err := r.c.ListJCDS(ctx)
		if err == nil {
			got = findFile(r.req.PkgName, files)
		}
		return got != nil
	})
	if got == nil {
		r.log.Logf(0, "No earlier upload of %s appeared: uploading it", r.req.PkgName)
		return false
	}
	w.file = got
	if err := r.local.ensure(r.log, true, false); err != nil || !SameHash(got.MD5, r.local.MD5) {
		r.log.Logf(0, "JCDS now lists %s with other bytes than the local package; not uploading over it: run again to decide", r.req.PkgName)
		return true
	}
	r.log.Logf(0, "The earlier upload of %s arrived with these bytes: not uploading again", r.req.PkgName)
	if len(got.SHA3) == 128 {
		r.local.learn(Hashes{SHA3: got.SHA3})
	}
	r.fileVerified = true
	return true
}
