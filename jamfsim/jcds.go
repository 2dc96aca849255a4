package jamfsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"path"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// StoredFile is a file in the distribution store, with the hashes JCDS
// computed from the stored bytes.
type StoredFile struct {
	FileName string
	Key      string // object key in the bucket
	Length   int64
	MD5      string
	SHA3     string // SHA3-512
	SHA256   string
	SHA512   string // for a record whose hashType is SHA_512 (JamfSync)
	// Unhashed: Jamf computed no hash for this file (it is larger than
	// Config.UnhashedAbove). The digests above are the bytes' own, for
	// the oracle and tests; JCDS lists none of them, and no record gets
	// them from Jamf.
	Unhashed bool
}

// DefaultUnhashedAbove is the size above which the simulated Jamf Cloud
// computes no hash for a file: 10 GiB. The reference (jamf-pro-api.md
// §3.2 and §13) knows two things: jamf-cli "reports an unhashed large
// package as unverified", and in jamf-upload #399 a 10.85 GB
// (10.1 GiB) package uploaded through /upload on 11.30.2 returned 201
// but its verification timed out, Jamf never giving it a hash. No
// smaller package is reported unhashed, and packages of several GB are
// reported hashed, so the threshold is put just under the one known
// case. Real Jamf documents none; tests that need it lower set it.
const DefaultUnhashedAbove = 10 << 30

// storedFile describes the object at key holding bytes with digests d.
func storedFile(name, key string, d digests) *StoredFile {
	return &StoredFile{FileName: name, Key: key, Length: d.Length, MD5: d.MD5, SHA3: d.SHA3, SHA256: d.SHA256, SHA512: d.SHA512}
}

// cloudFile is storedFile for a file Jamf Cloud processed (a JCDS or
// packages-route upload): above UnhashedAbove it computes no hash.
func (s *Server) cloudFile(name, key string, d digests) *StoredFile {
	f := storedFile(name, key, d)
	f.Unhashed = s.cfg.UnhashedAbove >= 0 && d.Length > s.cfg.UnhashedAbove
	return f
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

// jcdsPresent reports whether this server still has the deprecated
// /api/v1/jcds/* endpoints.
func (s *Server) jcdsPresent() bool { return !s.cfg.NoJCDSEndpoints }

func (s *Server) routeJCDS(mux *http.ServeMux) {
	jcds := func(pattern string, n need, h handler) {
		s.api(mux, pattern, s.jcdsPresent, n, func(w http.ResponseWriter, r *http.Request, tok string) {
			if s.cfg.NoJCDS {
				// What a server without JCDS 2.0 answers (JamfSync's detection).
				writeAPIError(w, http.StatusInternalServerError, "UNEXPECTED_ERROR", "JCDS 2.0 is not enabled for this distribution point")
				return
			}
			h(w, r, tok)
		})
	}
	jcds("GET /api/v1/jcds/files", needs(PrivReadJCDSFiles), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.mu.Lock()
		hook := s.beforeList
		s.mu.Unlock()
		if hook != nil {
			hook()
		}
		s.Ingest(r.Context())
		writeJSON(w, 200, s.fileList())
	})
	jcds("POST /api/v1/jcds/files", needs(PrivCreateJCDSFiles), func(w http.ResponseWriter, r *http.Request, tok string) {
		id := newUUID()
		sess := &session{uuid: id, path: "tmp/" + id + "/"}
		s.mu.Lock()
		s.sessions[tok] = sess
		s.sessions[s.subject(tok)] = sess
		s.mu.Unlock()
		s.writeCredentials(w, r.Context(), http.StatusCreated, sess, sess)
	})
	jcds("POST /api/v1/jcds/renew-credentials", needs(PrivCreateJCDSFiles), func(w http.ResponseWriter, r *http.Request, tok string) {
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
		shown := sess
		if s.cfg.RenewNewPath {
			// Real Jamf's answer here is undocumented; this mode proves a
			// client keeps the original key, as JamfSync does.
			id := newUUID()
			shown = &session{uuid: id, path: "tmp/" + id + "/"}
		}
		s.writeCredentials(w, r.Context(), http.StatusOK, sess, shown)
	})
	jcds("GET /api/v1/jcds/files/{fileName}", needs(PrivReadJCDSFiles), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.Ingest(r.Context())
		s.mu.Lock()
		f := s.files[r.PathValue("fileName")]
		s.mu.Unlock()
		if f == nil {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "File not found")
			return
		}
		writeJSON(w, 200, map[string]string{"uri": s.S3Endpoint() + "/" + s.cfg.Bucket + "/" + f.Key + "?Expires=" + fmt.Sprint(time.Now().Add(time.Hour).Unix()) + "&Signature=sim&Key-Pair-Id=sim"})
	})
	jcds("DELETE /api/v1/jcds/files/{fileName}", needs(PrivDeleteJCDSFiles), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.Ingest(r.Context())
		if !s.deleteFile(r.Context(), r.PathValue("fileName")) {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "File not found")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	jcds("POST /api/v1/jcds/refresh-inventory", needs(PrivReadJCDSFiles), s.handleRefresh)
}

// BeforeJCDSList makes fn run at the start of every JCDS listing (GET
// /api/v1/jcds/files), before JCDS takes in finished uploads and answers:
// a test's other writer acting between two of a client's looks, at a
// point no timing decides (fn may call Ingest, PutFile). nil removes it.
func (s *Server) BeforeJCDSList(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeList = fn
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

// writeCredentials mints credentials that write under sess.path and
// answers them with shown's path and uuid (the same session unless
// RenewNewPath).
func (s *Server) writeCredentials(w http.ResponseWriter, ctx context.Context, status int, sess, shown *session) {
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
		"path": shown.path, "uuid": shown.uuid,
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
		fd := fileData{FileName: f.FileName, Length: f.Length, MD5: f.MD5, Region: s.cfg.Region, SHA3: f.SHA3}
		if f.Unhashed {
			fd.MD5, fd.SHA3 = "", "" // listed, with no hash (real JCDS, very large files)
		}
		out = append(out, fd)
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
	for i := 1; ; i++ {
		if n := numberedName(name, i); s.files[n] == nil {
			return n
		}
	}
}

// Upload is a file the simulated server has received and not yet
// processed: JCDS lists it, and a record gets its hash, only after Due.
type Upload struct {
	FileName string
	Route    string // "jcds" (S3 under tmp/) or "packages" (/upload)
	Key      string // object key in the bucket
	Due      time.Time
}

// Processing lists the uploads still being processed (IngestDelay after
// they arrived), so a test can see what the server has not yet taken in.
func (s *Server) Processing(ctx context.Context) ([]Upload, error) {
	objs, err := s.arrivals(ctx)
	var out []Upload
	for _, o := range objs {
		out = append(out, Upload{FileName: path.Base(o.key), Route: "jcds", Key: o.key, Due: o.due})
	}
	s.mu.Lock()
	for _, u := range s.pendingUp {
		out = append(out, Upload{FileName: u.file.FileName, Route: "packages", Key: u.file.Key, Due: u.readyAt})
	}
	s.mu.Unlock()
	return out, err
}

type arrival struct {
	key string
	due time.Time
}

// arrivals are the JCDS uploads (objects under tmp/) not yet taken in.
func (s *Server) arrivals(ctx context.Context) ([]arrival, error) {
	var out []arrival
	p := s3.NewListObjectsV2Paginator(s.s3.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String("tmp/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("listing the JCDS bucket: %w", err)
		}
		s.mu.Lock()
		for _, o := range page.Contents {
			if key := aws.ToString(o.Key); !s.ingested[key] {
				out = append(out, arrival{key: key, due: aws.ToTime(o.LastModified).Add(s.cfg.IngestDelay)})
			}
		}
		s.mu.Unlock()
	}
	return out, nil
}

// Ingest moves finished uploads older than IngestDelay into the store,
// hashing the stored bytes, as JCDS does asynchronously. The simulator
// calls it whenever a client could observe the result; tests may call it
// directly. A name already taken puts the file at Name_1.pkg, as JCDS does.
func (s *Server) Ingest(ctx context.Context) { s.ingest(ctx, false) }

// IngestNow takes in every finished JCDS upload at once, whatever
// IngestDelay: a test's JCDS catching up at a request it chooses (with
// BeforeJCDSList), not at a time.
func (s *Server) IngestNow(ctx context.Context) { s.ingest(ctx, true) }

func (s *Server) ingest(ctx context.Context, now bool) {
	objs, _ := s.arrivals(ctx) // what could not be listed is taken in later
	for _, o := range objs {
		if !now && time.Now().Before(o.due) {
			continue
		}
		start := time.Now()
		d, err := s.hashObject(ctx, o.key)
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.ingestTime += time.Since(start)
		if !s.ingested[o.key] {
			s.ingested[o.key] = true
			name := s.freeName(path.Base(o.key))
			s.files[name] = s.cloudFile(name, o.key, d)
		}
		s.mu.Unlock()
	}
	s.ingestPackageUploads(ctx)
}

func (s *Server) hashObject(ctx context.Context, key string) (digests, error) {
	out, err := s.s3.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return digests{}, fmt.Errorf("reading %s: %w", key, err)
	}
	defer out.Body.Close()
	return digest(out.Body)
}

// RemoveFile takes a file out of the store, as another client's DELETE
// /api/v1/jcds/files/{name} would (tests); it reports whether it was there.
func (s *Server) RemoveFile(ctx context.Context, name string) bool { return s.deleteFile(ctx, name) }

// PutFile places a file straight into the store (test set-up). Package
// records learn of it only at the next inventory refresh.
func (s *Server) PutFile(ctx context.Context, name string, data []byte) error {
	key := "store/" + newUUID() + "/" + name
	if _, err := s.s3.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		return fmt.Errorf("storing %s: %w", name, err)
	}
	d, err := digest(bytes.NewReader(data))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = s.cloudFile(name, key, d)
	return nil
}
