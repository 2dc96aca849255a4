package jcds2

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"strings"
	"time"
)

// viaPackages is the supported route: record first, then the file through
// POST /api/v1/packages/{id}/upload as one streamed multipart body. The
// record's hash (set by Jamf Pro once it has processed a file) says
// whether the file is there and current.
func (r *run) viaPackages(ctx context.Context) error {
	req, log := r.req, r.log
	name := req.PkgName
	upload := false
	switch {
	case r.rec == nil:
		upload = true
	case r.rec.hashVal == "":
		log.Logf(0, "Package record %s has no file hash yet (its file is missing or was never processed): uploading %s", r.rec.id, name)
		upload = true
	default:
		same, known, err := r.sameAsRecord()
		if err != nil {
			return err
		}
		switch {
		case same && r.rec.fileName == name:
			log.Logf(1, "Package record %s already holds these bytes (%s): nothing to upload", r.rec.id, strings.ToLower(r.rec.hashType))
		case req.Replace:
			log.Logf(0, "Package record %s holds different bytes and replace_pkg is True: replacing the file", r.rec.id)
			upload = true
		case !known:
			log.Logf(0, "Package record %s has a %s hash that cannot be compared; set replace_pkg to True to upload anyway", r.rec.id, r.rec.hashType)
		default:
			log.Logf(0, "Package record %s holds different bytes; not replacing them. Set replace_pkg to True to upload.", r.rec.id)
		}
	}
	r.hashFromServer = upload
	create, update, categoryID, err := r.prepareMetadata(ctx, upload)
	if err != nil {
		return err
	}
	if req.DryRun {
		r.planMetadata(create, update)
		if upload {
			r.plan = append(r.plan, fmt.Sprintf("upload %s (%s) through the packages API", name, HumanBytes(r.size)))
		}
		return nil
	}
	if create || update {
		if err := r.writeMetadata(ctx, create, categoryID); err != nil {
			return err
		}
	}
	if upload {
		if err := r.uploadPackage(ctx); err != nil {
			if create {
				// Leave no record without a file behind.
				cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if derr := r.c.DeletePackage(cleanup, r.res.PkgID); derr != nil {
					log.Logf(0, "WARNING: could not delete the new record %s after the failed upload (%v); the next run repairs it", r.res.PkgID, derr)
				} else {
					r.res.PkgID, r.res.MetadataUpdated = "", false
					return fmt.Errorf("%w; the record this run created was deleted again", err)
				}
			}
			return err
		}
		r.res.Uploaded = true
		r.settle(ctx)
		r.verifyRecord(ctx)
	}
	r.status()
	return nil
}

// sameAsRecord compares the local file with the record's hash.
func (r *run) sameAsRecord() (same, known bool, err error) {
	switch strings.ToUpper(r.rec.hashType) {
	case "SHA3_512":
		if err := r.ensureHashes(false, true); err != nil {
			return false, false, err
		}
		return strings.EqualFold(r.local.SHA3, r.rec.hashVal), true, nil
	case "MD5":
		if err := r.ensureHashes(true, false); err != nil {
			return false, false, err
		}
		return strings.EqualFold(r.local.MD5, r.rec.hashVal), true, nil
	}
	return false, false, nil
}

// uploadPackage streams header + file + footer with an exact length,
// hashing in the same read pass; each retry reopens the file.
func (r *run) uploadPackage(ctx context.Context) error {
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("file", r.req.PkgName); err != nil {
		return fmt.Errorf("building the upload body: %w", err)
	}
	headLen := head.Len()
	if err := mw.Close(); err != nil {
		return fmt.Errorf("building the upload body: %w", err)
	}
	tail.Write(head.Bytes()[headLen:])
	head.Truncate(headLen)

	var pipe *Hasher
	var body *progressReader
	stream := func() (io.ReadCloser, int64, error) {
		f, err := openFile(r.file)
		if err != nil {
			return nil, 0, err
		}
		pipe = NewHasher(true, true)
		body = &progressReader{r: io.TeeReader(f, pipe), total: r.size, log: r.log, ctx: ctx}
		rd := io.MultiReader(bytes.NewReader(head.Bytes()), body, bytes.NewReader(tail.Bytes()))
		return readCloser{rd, f}, int64(head.Len()) + r.size + int64(tail.Len()), nil
	}
	r.log.Logf(0, "Uploading %s (%s) through the Jamf Pro packages API", r.req.PkgName, HumanBytes(r.size))
	start := time.Now()
	// At least 10 minutes, and no slower than 256 KiB/s on average.
	timeout := max(10*time.Minute, time.Duration(r.size/(256<<10))*time.Second)
	_, _, err := r.c.do(ctx, call{method: "POST", path: "/api/v1/packages/" + url.PathEscape(r.res.PkgID) + "/upload",
		stream: stream, contentType: mw.FormDataContentType(), timeout: timeout})
	if err != nil {
		if pipe != nil {
			pipe.Sums()
		}
		return interrupted(ctx, fmt.Errorf("uploading %s: %w", r.req.PkgName, err), "the upload was cut off before Jamf Pro accepted it")
	}
	sums := pipe.Sums()
	if body.done != r.size {
		return fmt.Errorf("uploaded %d bytes but %s is %d bytes: it changed during the upload; run again", body.done, r.file, r.size)
	}
	r.local = sums
	r.cache.Put(r.file, r.local)
	r.log.Logf(0, "Uploaded %s in %s", HumanBytes(r.size), time.Since(start).Round(time.Millisecond))
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// verifyRecord polls the record until Jamf Pro lists our hash.
func (r *run) verifyRecord(ctx context.Context) {
	r.verify(ctx, "Jamf Pro has not yet listed the hash of "+r.req.PkgName, func() bool {
		p, err := r.c.GetPackage(ctx, r.res.PkgID)
		if err != nil {
			return false
		}
		hv := deref(p.HashValue)
		if hv == "" || !strings.EqualFold(hv, r.local.SHA3) && !strings.EqualFold(hv, r.local.MD5) {
			return false
		}
		r.log.Logf(1, "Verified: record %s lists %s %s", r.res.PkgID, deref(p.HashType), hv)
		return true
	})
}
