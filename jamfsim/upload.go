package jamfsim

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// pendingUpload is a file received through /upload, processed after
// IngestDelay like JCDS processes its uploads.
type pendingUpload struct {
	pkgID   int
	file    StoredFile
	readyAt time.Time
	// fresh: the record had no file before. Jamf processes such an
	// upload by itself and gives the record its hashes and size; a
	// replaced file keeps the old hash until an inventory refresh.
	fresh bool
}

// handleUpload is POST /api/v1/packages/{id}/upload: one multipart part
// named file, whose file name must be the record's fileName.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("id")
	n, _ := strconv.Atoi(id)
	p := s.pkg(id)
	if p == nil {
		writeAPIError(w, 404, "INVALID_ID", "Package with id "+id+" does not exist")
		return
	}
	if s.cdnType() == "NONE" {
		// No cloud distribution point to put the file on. Jamf's answer
		// here is undocumented; this is its answer to upload-capability.
		writeAPIError(w, 404, "NOT_FOUND", noCloudDP)
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "multipart/form-data with a part named file is required", "file")
		return
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "multipart/form-data with a part named file is required", "file")
			return
		}
		if part.FormName() != "file" {
			continue
		}
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if params["filename"] != p.FileName {
			// Jamf's wording, from jamf-upload #162.
			writeAPIErrorField(w, 400, "INVALID_FILE_NAME", "The filename does not correspond to the filename linked to the package ID.", "file")
			return
		}
		key := "store/" + newUUID() + "/" + p.FileName
		d, err := s.store(r.Context(), key, part)
		if err != nil {
			writeAPIError(w, 500, "UPLOAD_FAILED", "The upload did not complete")
			return
		}
		s.mu.Lock()
		u := &pendingUpload{pkgID: n, readyAt: time.Now().Add(s.cfg.IngestDelay), file: *s.cloudFile(p.FileName, key, d), fresh: s.files[p.FileName] == nil}
		for _, o := range s.pendingUp {
			u.fresh = u.fresh && o.pkgID != n
		}
		if rec := s.packages[n]; rec != nil && u.fresh {
			// While Jamf works on the file, hashValue and size read "".
			rec.HashValue, rec.Size, rec.CloudTransferStatus = ptr(""), ptr(""), statusPending
		}
		s.pendingUp = append(s.pendingUp, u)
		s.mu.Unlock()
		writeJSON(w, 201, map[string]string{"id": id, "href": s.URL + "/api/v1/packages/" + id})
		return
	}
}

// store streams body into the bucket at key, hashing it on the way.
func (s *Server) store(ctx context.Context, key string, body io.Reader) (digests, error) {
	pr, pw := io.Pipe()
	type result struct {
		d   digests
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := digest(pr)
		pr.CloseWithError(err)
		done <- result{d, err}
	}()
	//lint:ignore SA1019 the simulator streams uploads of unknown length with the same (deprecated) manager
	up := manager.NewUploader(s.s3.Client())
	//lint:ignore SA1019 see above
	// A live context of its own: when the client goes away mid-body, the
	// body read fails and the manager must still be able to abort its
	// multipart upload (with the request's context it could not).
	_, err := up.Upload(context.WithoutCancel(ctx), &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: io.TeeReader(body, pw)})
	pw.CloseWithError(err)
	res := <-done
	if err == nil {
		err = res.err
	}
	return res.d, err
}

// ingestPackageUploads finishes processing /upload files: the file
// replaces any file of that name, and a record that had no file gets
// Jamf's own hashes, size and READY.
func (s *Server) ingestPackageUploads(ctx context.Context) {
	s.mu.Lock()
	var keep []*pendingUpload
	var replaced []string
	for _, u := range s.pendingUp {
		if time.Now().Before(u.readyAt) {
			keep = append(keep, u)
			continue
		}
		f := u.file
		if old := s.files[f.FileName]; old != nil && old.Key != f.Key {
			replaced = append(replaced, old.Key)
		}
		s.files[f.FileName] = &f
		if p := s.packages[u.pkgID]; p != nil && u.fresh {
			s.takeFileHashes(p, &f)
			p.CloudTransferStatus, p.Size = statusReady, ptr(humanSize(f.Length))
		}
	}
	s.pendingUp = keep
	s.mu.Unlock()
	for _, key := range replaced {
		// Best effort: a leftover object is invisible to clients.
		s.s3.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	}
}

// takeFileHashes gives a record the hashes Jamf computes itself. sha3512
// exists only from 11.25's schema on. A file Jamf computed no hash of
// (Unhashed) gives none: the record keeps what its writer put there (a
// hash, or none), true or not. That is the strict reading: Jamf
// documents nothing here, and a simulator that corrected a client's
// hash would hide a client that leaves a wrong one. Callers hold s.mu.
func (s *Server) takeFileHashes(p *Package, f *StoredFile) {
	if f.Unhashed {
		return
	}
	p.HashType, p.HashValue, p.MD5, p.SHA256 = ptr("SHA3_512"), ptr(f.SHA3), ptr(f.MD5), ptr(f.SHA256)
	if s.atLeast(11, 25) {
		p.SHA3512 = ptr(f.SHA3)
	}
}
