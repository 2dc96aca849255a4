package jcds2

import (
	"context"
	"fmt"
	"io"
	"time"
)

// viaJCDS is the JCDS 2.0 route: compare hashes with the JCDS listing,
// delete a stale file first (so no Name_1.pkg is born), upload straight
// to S3, settle, verify, then write the record with the verified hash.
func (r *run) viaJCDS(ctx context.Context, files []FileData) error {
	req, log := r.req, r.log
	name := req.PkgName
	entry := findFile(name, files)
	dups := duplicatesOf(name, files)

	upload, deleteStale := false, false
	switch {
	case entry != nil:
		if err := r.ensureHashes(true, false); err != nil {
			return err
		}
		switch {
		case entry.MD5 == r.local.MD5:
			log.Logf(1, "%s is already on JCDS with the same bytes (md5 %s): nothing to upload", name, r.local.MD5)
			if r.local.SHA3 == "" && len(entry.SHA3) == 128 {
				r.local.SHA3 = entry.SHA3
			}
		case r.rec == nil || req.Replace:
			reason := "replace_pkg is True"
			if r.rec == nil {
				reason = "it has no package record"
			}
			log.Logf(0, "%s on JCDS differs from the local package and %s: replacing it", name, reason)
			upload, deleteStale = true, true
		default:
			log.Logf(0, "%s on JCDS differs from the local package; not replacing it. Set replace_pkg to True to upload it.", name)
		}
	case r.rec != nil:
		pending, err := r.uploadedEarlier()
		if err != nil {
			return err
		}
		if pending {
			// Uploading again now would give JCDS a second file of this
			// name while it still processes the first: Name_1.pkg.
			log.Logf(0, "Package record %s already names these bytes but JCDS does not list %s yet (an earlier upload is still being processed): waiting for it rather than uploading again; set replace_pkg to True to upload anyway", r.rec.id, name)
			r.settle(ctx)
			r.verifyJCDS(ctx)
			r.res.PkgID = r.rec.id
			if r.res.Verified {
				r.res.Status = "unchanged"
			} else {
				r.res.Status = "uploaded earlier, not yet verified"
			}
			return nil
		}
		log.Logf(0, "Package record %s exists but its file %s is not on JCDS (an earlier run did not finish): uploading it", r.rec.id, name)
		upload = true
	default:
		upload = true
	}
	for _, d := range dups {
		log.Logf(0, "WARNING: JCDS also holds %s, a duplicate of %s left by another upload%s", d.FileName, name,
			map[bool]string{true: "; removing it (jcds2_remove_duplicates)", false: ". Set jcds2_remove_duplicates to True to remove it."}[req.RemoveDuplicates])
	}

	create, update, categoryID, err := r.prepareMetadata(ctx, upload)
	if err != nil {
		return err
	}
	if req.DryRun {
		if deleteStale {
			r.plan = append(r.plan, "delete the stale JCDS file "+name)
		}
		if req.RemoveDuplicates {
			for _, d := range dups {
				r.plan = append(r.plan, "delete the duplicate JCDS file "+d.FileName)
			}
		}
		if upload {
			r.plan = append(r.plan, fmt.Sprintf("upload %s (%s) to JCDS", name, HumanBytes(r.size)))
		}
		r.planMetadata(create, update)
		return nil
	}

	if deleteStale {
		if err := r.c.DeleteJCDS(ctx, name); err != nil {
			return fmt.Errorf("the stale file must go first so no duplicate is made: %w", err)
		}
		log.Logf(1, "Deleted the stale JCDS file %s", name)
	}
	if req.RemoveDuplicates {
		for _, d := range dups {
			if err := r.c.DeleteJCDS(ctx, d.FileName); err != nil {
				return err
			}
		}
	}
	if upload {
		if err := r.uploadS3(ctx); err != nil {
			return err
		}
		r.res.Uploaded = true
		r.settle(ctx)
		r.verifyJCDS(ctx)
	}
	if create || update {
		if err := r.writeMetadata(ctx, create, categoryID); err != nil {
			if upload && create && !deleteStale {
				// Leave the server as it was: no file without a record.
				cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if derr := r.c.DeleteJCDS(cleanup, name); derr == nil {
					r.res.Uploaded = false
					return fmt.Errorf("%w; the file this run uploaded was deleted again, so nothing changed", err)
				}
			}
			if upload {
				return fmt.Errorf("the file was uploaded but %w; run again to write the record", err)
			}
			return err
		}
		if create && !upload {
			r.settle(ctx)
		}
	}
	r.status()
	return nil
}

// uploadS3 gets credentials and uploads the file with inline MD5.
func (r *run) uploadS3(ctx context.Context) error {
	cr, err := r.c.newJCDSUpload(ctx)
	if err != nil {
		return err
	}
	endpoint := s3Endpoint(r.req.S3Endpoint)
	client := r.c.newS3Client(cr, endpoint, r.req.MaxTries, r.req.Insecure, r.c.timeout)
	partSize, conc := partPlan(r.size, r.req.PartSize, r.req.Concurrency)
	f, err := openFile(r.file)
	if err != nil {
		return err
	}
	defer f.Close()
	pipe := NewHasher(r.local.MD5 == "", false)
	body := &progressReader{r: io.TeeReader(f, pipe), total: r.size, log: r.log, ctx: ctx}
	key := cr.Path + r.req.PkgName
	r.log.Logf(0, "Uploading %s (%s) to JCDS in %s parts, %d at a time", r.req.PkgName, HumanBytes(r.size), HumanBytes(partSize), conc)
	start := time.Now()
	// The upload keeps a live context so that, when interrupted, the
	// uploader can still abort the multipart upload; progressReader stops
	// reading as soon as ctx ends.
	err = r.e.objects.Upload(context.WithoutCancel(ctx), client, objectUpload{
		Bucket: cr.BucketName, Key: key, Body: body, Size: r.size, PartSize: partSize, Concurrency: conc,
	})
	sums := pipe.Sums()
	if err != nil {
		return interrupted(ctx, err, "the multipart upload was aborted and nothing was changed in Jamf Pro")
	}
	if body.done != r.size {
		return fmt.Errorf("uploaded %d bytes but %s is %d bytes: it changed during the upload; run again", body.done, r.file, r.size)
	}
	if sums.MD5 != "" {
		r.local.MD5 = sums.MD5
		r.cache.Put(r.file, r.local)
	}
	el := time.Since(start)
	r.log.Logf(0, "Uploaded %s in %s (%s/s)", HumanBytes(r.size), el.Round(time.Millisecond), HumanBytes(int64(float64(r.size)/max(el.Seconds(), 0.001))))
	return nil
}

// settle asks Jamf Pro to refresh its inventory of the file (or all
// files with recalculate). Failure is only a warning.
func (r *run) settle(ctx context.Context) {
	if r.req.RecalculateWait > 0 {
		wait(ctx, r.req.RecalculateWait)
	}
	name := r.req.PkgName
	if r.req.Recalculate {
		name = ""
	}
	if err := r.c.RefreshInventory(ctx, r.v, name); err != nil {
		r.log.Logf(0, "WARNING: inventory refresh failed (%v); Jamf Pro will notice the file on its next sync", err)
		return
	}
	r.res.Recalculated = true
}

// verifyJCDS polls the JCDS listing until our MD5 shows under our name.
func (r *run) verifyJCDS(ctx context.Context) {
	r.verify(ctx, "JCDS does not list "+r.req.PkgName+" with the uploaded hash yet", func() bool {
		files, ok, err := r.c.ListJCDS(ctx)
		if err != nil || !ok {
			return false
		}
		if f := findFile(r.req.PkgName, files); f != nil && f.MD5 == r.local.MD5 {
			if len(f.SHA3) == 128 {
				r.local.SHA3 = f.SHA3
				r.cache.Put(r.file, r.local)
			}
			r.log.Logf(1, "Verified: JCDS lists %s with md5 %s", r.req.PkgName, f.MD5)
			return true
		}
		for _, d := range duplicatesOf(r.req.PkgName, files) {
			if d.MD5 == r.local.MD5 {
				r.log.Logf(0, "WARNING: JCDS stored the upload as %s, a duplicate: delete %s by hand", d.FileName, d.FileName)
			}
		}
		return false
	})
}

// verify calls check with a capped back-off until it reports success or
// VerifyTimeout runs out; a timeout is reported, not failed: the upload
// itself succeeded.
func (r *run) verify(ctx context.Context, notYet string, check func() bool) {
	deadline := time.Now().Add(r.req.VerifyTimeout)
	for delay := 500 * time.Millisecond; ; delay = min(delay*2, 15*time.Second) {
		if check() {
			r.res.Verified = true
			return
		}
		if time.Now().Add(delay).After(deadline) || ctx.Err() != nil {
			r.log.Logf(0, "%s; it was uploaded but is not yet verified", notYet)
			return
		}
		wait(ctx, delay)
	}
}

// uploadedEarlier tells a file JCDS is still processing from one never
// uploaded: the record already carries the local file's hash (this tool
// writes it only after an upload) and replace_pkg does not ask for a new
// upload.
func (r *run) uploadedEarlier() (bool, error) {
	if r.req.Replace || r.req.DryRun || r.rec.hashVal == "" || r.rec.fileName != r.req.PkgName {
		return false, nil
	}
	same, _, err := r.sameAsRecord()
	return same, err
}

func (r *run) status() {
	switch {
	case r.req.DryRun:
		r.res.Status = "dry run"
	case r.res.Uploaded && r.res.Verified:
		r.res.Status = "uploaded, verified"
	case r.res.Uploaded:
		r.res.Status = "uploaded, not yet verified"
	case r.res.MetadataUpdated:
		r.res.Status = "metadata updated"
	default:
		r.res.Status = "unchanged"
	}
}
