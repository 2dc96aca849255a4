package jamfsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// StoredFile is a file in the distribution store, with the hashes JCDS
// computed from the stored bytes.
type StoredFile struct {
	FileName string
	Key      string // object key in the bucket
	Length   int64
	MD5      string
	SHA3     string
}

// session is one JCDS upload session (POST /api/v1/jcds/files).
type session struct {
	uuid string
	path string
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Server) routeJCDS(mux *http.ServeMux) {
	noJCDS := func(w http.ResponseWriter) bool {
		if s.cfg.NoJCDS {
			// What a server without JCDS 2.0 answers (JamfSync's detection).
			writeAPIError(w, http.StatusInternalServerError, "UNEXPECTED_ERROR", "JCDS 2.0 is not enabled for this distribution point")
			return true
		}
		return false
	}
	mux.HandleFunc("GET /api/v1/jcds/files", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if noJCDS(w) {
			return
		}
		s.Ingest(r.Context())
		writeJSON(w, 200, s.fileList())
	}))
	mux.HandleFunc("POST /api/v1/jcds/files", s.authed(func(w http.ResponseWriter, r *http.Request, tok string) {
		if noJCDS(w) {
			return
		}
		id := newUUID()
		sess := &session{uuid: id, path: "tmp/" + id + "/"}
		s.mu.Lock()
		s.sessions[tok] = sess
		s.sessions[s.subject(tok)] = sess
		s.mu.Unlock()
		s.writeCredentials(w, r.Context(), http.StatusCreated, sess)
	}))
	mux.HandleFunc("POST /api/v1/jcds/renew-credentials", s.authed(func(w http.ResponseWriter, r *http.Request, tok string) {
		if noJCDS(w) {
			return
		}
		s.mu.Lock()
		sess := s.sessions[tok]
		if sess == nil {
			sess = s.sessions[s.subject(tok)]
		}
		s.mu.Unlock()
		if sess == nil {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "No upload session to renew")
			return
		}
		s.writeCredentials(w, r.Context(), http.StatusOK, sess)
	}))
	mux.HandleFunc("GET /api/v1/jcds/files/{fileName}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if noJCDS(w) {
			return
		}
		s.Ingest(r.Context())
		s.mu.Lock()
		f := s.files[r.PathValue("fileName")]
		s.mu.Unlock()
		if f == nil {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "File not found")
			return
		}
		writeJSON(w, 200, map[string]string{"uri": s.S3Endpoint() + "/" + s.cfg.Bucket + "/" + f.Key + "?Expires=" + fmt.Sprint(time.Now().Add(time.Hour).Unix()) + "&Signature=sim&Key-Pair-Id=sim"})
	}))
	mux.HandleFunc("DELETE /api/v1/jcds/files/{fileName}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if noJCDS(w) {
			return
		}
		s.Ingest(r.Context())
		if !s.deleteFile(r.Context(), r.PathValue("fileName")) {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "File not found")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	refresh := func(w http.ResponseWriter, r *http.Request, _ string) {
		if len(r.URL.Query().Get("file-name")) > 255 {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "file-name is longer than 255 characters", "file-name")
			return
		}
		s.Ingest(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}
	mux.HandleFunc("POST /api/v1/jcds/refresh-inventory", s.authed(func(w http.ResponseWriter, r *http.Request, tok string) {
		if noJCDS(w) {
			return
		}
		refresh(w, r, tok)
	}))
	mux.HandleFunc("POST /api/v1/cloud-distribution-point/refresh-inventory", s.authed(func(w http.ResponseWriter, r *http.Request, tok string) {
		if !s.atLeast(11, 24) {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found")
			return
		}
		refresh(w, r, tok)
	}))
}

// subject is the account behind a token. Renewal finds the upload
// session of the token, else (a token minted again mid-upload) the
// account's latest one; Jamf's exact binding is undocumented. Callers
// hold s.mu.
func (s *Server) subject(tok string) string {
	if t := s.tokens[tok]; t != nil {
		return t.subject
	}
	return tok
}

func (s *Server) writeCredentials(w http.ResponseWriter, ctx context.Context, status int, sess *session) {
	ak, secret, tok, err := s.s3.Mint(ctx, s.cfg.Bucket, sess.path)
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "UNEXPECTED_ERROR", err.Error())
		return
	}
	exp := time.Now().Add(s.cfg.CredentialLifetime)
	s.mu.Lock()
	s.creds[ak] = &minted{token: tok, expires: exp, bucket: s.cfg.Bucket, prefix: sess.path}
	s.issued = append(s.issued, secret, tok)
	s.mu.Unlock()
	writeJSON(w, status, map[string]any{
		"accessKeyID": ak, "secretAccessKey": secret, "sessionToken": tok,
		"region": s.cfg.Region, "expiration": exp.Unix(), "bucketName": s.cfg.Bucket,
		"path": sess.path, "uuid": sess.uuid,
	})
}

type fileData struct {
	FileName string `json:"fileName"`
	Length   int64  `json:"length"`
	MD5      string `json:"md5"`
	Region   string `json:"region"`
	SHA3     string `json:"sha3"`
}

func (s *Server) fileList() []fileData {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []fileData{}
	for _, f := range s.files {
		out = append(out, fileData{FileName: f.FileName, Length: f.Length, MD5: f.MD5, Region: s.cfg.Region, SHA3: f.SHA3})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FileName < out[j].FileName })
	return out
}

// Files returns the distribution store, by file name.
func (s *Server) Files() map[string]StoredFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]StoredFile{}
	for k, f := range s.files {
		out[k] = *f
	}
	return out
}

func (s *Server) deleteFile(ctx context.Context, name string) bool {
	s.mu.Lock()
	f := s.files[name]
	delete(s.files, name)
	s.mu.Unlock()
	if f == nil {
		return false
	}
	s.s3.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(f.Key)})
	return true
}

// freeName is where JCDS puts a file whose name is taken: Name_1.pkg.
// Callers hold s.mu.
func (s *Server) freeName(name string) string {
	if s.files[name] == nil {
		return name
	}
	base, ext := jcds2.SplitName(name)
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s_%d%s", base, i, ext)
		if s.files[n] == nil {
			return n
		}
	}
}

// Ingest moves finished uploads older than IngestDelay into the store,
// hashing the stored bytes, as JCDS does asynchronously. The simulator
// calls it on listing and refresh; tests may call it directly.
func (s *Server) Ingest(ctx context.Context) {
	c := s.s3.Client()
	var objs []struct {
		key  string
		size int64
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String("tmp/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			s.mu.Lock()
			done := s.ingested[key]
			s.mu.Unlock()
			if done || time.Since(aws.ToTime(o.LastModified)) < s.cfg.IngestDelay {
				continue
			}
			objs = append(objs, struct {
				key  string
				size int64
			}{key, aws.ToInt64(o.Size)})
		}
	}
	for _, o := range objs {
		start := time.Now()
		md5sum, sha, n, err := s.hashObject(ctx, o.key)
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.ingestTime += time.Since(start)
		if !s.ingested[o.key] {
			s.ingested[o.key] = true
			name := s.freeName(path.Base(o.key))
			s.files[name] = &StoredFile{FileName: name, Key: o.key, Length: n, MD5: md5sum, SHA3: sha}
		}
		s.mu.Unlock()
	}
	s.ingestPackageUploads()
}

func (s *Server) hashObject(ctx context.Context, key string) (string, string, int64, error) {
	out, err := s.s3.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", "", 0, err
	}
	defer out.Body.Close()
	return hashStream(out.Body)
}

// hashStream computes MD5 and SHA3-512 in one pass, in parallel.
func hashStream(r io.Reader) (string, string, int64, error) {
	h := jcds2.NewHasher(true, true)
	n, err := io.Copy(h, r)
	sums := h.Sums()
	if err != nil {
		return "", "", n, err
	}
	return sums.MD5, sums.SHA3, n, nil
}

// PutFile places a file straight into the store (test set-up).
func (s *Server) PutFile(ctx context.Context, name string, data []byte) error {
	key := "store/" + newUUID() + "/" + name
	if _, err := s.s3.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		return err
	}
	md5sum, sha, n, _ := hashStream(bytes.NewReader(data))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = &StoredFile{FileName: name, Key: key, Length: n, MD5: md5sum, SHA3: sha}
	return nil
}
