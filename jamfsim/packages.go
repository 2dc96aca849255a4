package jamfsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Package is the schema's Package object.
type Package struct {
	ID                   string  `json:"id"`
	PackageName          string  `json:"packageName"`
	FileName             string  `json:"fileName"`
	CategoryID           string  `json:"categoryId"`
	Info                 *string `json:"info"`
	Notes                *string `json:"notes"`
	Priority             int     `json:"priority"`
	OSRequirements       *string `json:"osRequirements"`
	FillUserTemplate     bool    `json:"fillUserTemplate"`
	Indexed              bool    `json:"indexed"`
	FillExistingUsers    bool    `json:"fillExistingUsers"`
	Swu                  bool    `json:"swu"`
	RebootRequired       bool    `json:"rebootRequired"`
	SelfHealNotify       bool    `json:"selfHealNotify"`
	SelfHealingAction    *string `json:"selfHealingAction"`
	OSInstall            bool    `json:"osInstall"`
	SerialNumber         *string `json:"serialNumber"`
	ParentPackageID      *string `json:"parentPackageId"`
	BasePath             *string `json:"basePath"`
	SuppressUpdates      bool    `json:"suppressUpdates"`
	CloudTransferStatus  string  `json:"cloudTransferStatus"`
	IgnoreConflicts      bool    `json:"ignoreConflicts"`
	SuppressFromDock     bool    `json:"suppressFromDock"`
	SuppressEula         bool    `json:"suppressEula"`
	SuppressRegistration bool    `json:"suppressRegistration"`
	InstallLanguage      *string `json:"installLanguage"`
	MD5                  *string `json:"md5"`
	SHA256               *string `json:"sha256"`
	SHA3512              *string `json:"sha3512"`
	HashType             *string `json:"hashType"`
	HashValue            *string `json:"hashValue"`
	Size                 *string `json:"size"`
	OSInstallerVersion   *string `json:"osInstallerVersion"`
	Manifest             *string `json:"manifest"`
	ManifestFileName     *string `json:"manifestFileName"`
	Format               *string `json:"format"`
}

var packageRequired = []string{"categoryId", "fileName", "fillUserTemplate", "osInstall", "packageName", "priority", "rebootRequired", "suppressEula", "suppressFromDock", "suppressRegistration", "suppressUpdates"}

var packageFilterFields = map[string]bool{"id": true, "fileName": true, "packageName": true, "categoryId": true, "info": true, "notes": true, "manifestFileName": true, "cloudTransferStatus": true}

func (s *Server) atLeast(major, minor int) bool {
	parts := strings.SplitN(s.cfg.Version, ".", 3)
	ma, _ := strconv.Atoi(parts[0])
	mi := 0
	if len(parts) > 1 {
		mi, _ = strconv.Atoi(parts[1])
	}
	return ma > major || ma == major && mi >= minor
}

// Packages returns the records, by id.
func (s *Server) Packages() map[int]Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]Package{}
	for id, p := range s.packages {
		q := *p
		s.fillStatus(&q)
		out[id] = q
	}
	return out
}

// AddPackage creates a record directly (test set-up) and returns its id.
func (s *Server) AddPackage(p Package) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextPkgID
	s.nextPkgID++
	p.ID = strconv.Itoa(id)
	s.packages[id] = &p
	return id
}

// fillStatus sets the read-only fields. Callers hold s.mu.
func (s *Server) fillStatus(p *Package) {
	p.CloudTransferStatus = "PENDING"
	if f := s.files[p.FileName]; f != nil {
		p.CloudTransferStatus = "READY"
		size := strconv.FormatInt(f.Length/1024, 10) + "KB"
		p.Size = &size
	}
}

func (s *Server) routePackages(mux *http.ServeMux) {
	modern := func(w http.ResponseWriter) bool {
		if !s.atLeast(11, 5) {
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found")
			return false
		}
		return true
	}
	mux.HandleFunc("GET /api/v1/packages", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if !modern(w) {
			return
		}
		s.Ingest(r.Context())
		q := r.URL.Query()
		var filter rsql
		if f := q.Get("filter"); f != "" {
			var err error
			if filter, err = parseRSQL(f, packageFilterFields); err != nil {
				writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid filter: "+err.Error(), "filter")
				return
			}
		}
		s.mu.Lock()
		var list []Package
		for _, p := range s.packages {
			q := *p
			s.fillStatus(&q)
			if filter == nil || filter.match(packageField(&q)) {
				list = append(list, q)
			}
		}
		s.mu.Unlock()
		if !sortPackages(list, q.Get("sort")) {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid sort", "sort")
			return
		}
		page, size, ok := paging(q)
		if !ok {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid page or page-size", "page")
			return
		}
		total := len(list)
		from, to := min(page*size, total), min(page*size+size, total)
		writeJSON(w, 200, map[string]any{"totalCount": total, "results": append([]Package{}, list[from:to]...)})
	}))
	mux.HandleFunc("POST /api/v1/packages", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if !modern(w) {
			return
		}
		p, ok := s.decodePackage(w, r, "")
		if !ok {
			return
		}
		s.mu.Lock()
		id := s.nextPkgID
		s.nextPkgID++
		p.ID = strconv.Itoa(id)
		s.packages[id] = p
		s.mu.Unlock()
		writeJSON(w, 201, map[string]string{"id": p.ID, "href": s.URL + "/api/v1/packages/" + p.ID})
	}))
	mux.HandleFunc("GET /api/v1/packages/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if !modern(w) {
			return
		}
		s.Ingest(r.Context())
		p := s.pkg(r.PathValue("id"))
		if p == nil {
			writeAPIError(w, 404, "INVALID_ID", "Package with id "+r.PathValue("id")+" does not exist")
			return
		}
		writeJSON(w, 200, p)
	}))
	mux.HandleFunc("PUT /api/v1/packages/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if !modern(w) {
			return
		}
		id := r.PathValue("id")
		if s.pkg(id) == nil {
			writeAPIError(w, 404, "INVALID_ID", "Package with id "+id+" does not exist")
			return
		}
		p, ok := s.decodePackage(w, r, id)
		if !ok {
			return
		}
		n, _ := strconv.Atoi(id)
		s.mu.Lock()
		p.ID = id
		s.packages[n] = p // a PUT replaces the whole record, as Jamf's does
		q := *p
		s.fillStatus(&q)
		s.mu.Unlock()
		writeJSON(w, 200, q)
	}))
	mux.HandleFunc("DELETE /api/v1/packages/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		if !modern(w) {
			return
		}
		if !s.deletePackage(r.Context(), r.PathValue("id")) {
			writeAPIError(w, 404, "INVALID_ID", "Package with id "+r.PathValue("id")+" does not exist")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("POST /api/v1/packages/{id}/upload", s.authed(s.handleUpload))
	mux.HandleFunc("GET /api/v1/categories", s.authed(s.handleCategories))
	mux.HandleFunc("POST /api/v1/categories", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		var c struct {
			Name     string `json:"name"`
			Priority *int   `json:"priority"`
		}
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Name == "" || c.Priority == nil {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "name and priority are required", "name")
			return
		}
		s.mu.Lock()
		for _, n := range s.categories {
			if n == c.Name {
				s.mu.Unlock()
				writeAPIErrorField(w, 400, "DUPLICATE_FIELD", "name must be unique", "name")
				return
			}
		}
		id := s.nextCatID
		s.nextCatID++
		s.categories[id] = c.Name
		s.mu.Unlock()
		writeJSON(w, 201, map[string]string{"id": strconv.Itoa(id), "href": s.URL + "/api/v1/categories/" + strconv.Itoa(id)})
	}))
}

func packageField(p *Package) func(string) (string, bool) {
	return func(f string) (string, bool) {
		switch f {
		case "id":
			return p.ID, true
		case "fileName":
			return p.FileName, true
		case "packageName":
			return p.PackageName, true
		case "categoryId":
			return p.CategoryID, true
		case "info":
			return deref(p.Info), true
		case "notes":
			return deref(p.Notes), true
		case "manifestFileName":
			return deref(p.ManifestFileName), true
		case "cloudTransferStatus":
			return p.CloudTransferStatus, true
		}
		return "", false
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func sortPackages(list []Package, spec string) bool {
	if spec == "" {
		spec = "id:asc"
	}
	field, dir, _ := strings.Cut(strings.Split(spec, ",")[0], ":")
	if dir == "" {
		dir = "asc"
	}
	if !packageFilterFields[field] || dir != "asc" && dir != "desc" {
		return false
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, _ := packageField(&list[i])(field)
		b, _ := packageField(&list[j])(field)
		if field == "id" {
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			return (x < y) == (dir == "asc")
		}
		return (a < b) == (dir == "asc")
	})
	return true
}

func paging(q map[string][]string) (int, int, bool) {
	get := func(k string, def int) (int, bool) {
		v := ""
		if len(q[k]) > 0 {
			v = q[k][0]
		}
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0
	}
	page, ok1 := get("page", 0)
	size, ok2 := get("page-size", 100)
	return page, size, ok1 && ok2 && size > 0 && size <= 2000
}

func (s *Server) pkg(id string) *Package {
	n, err := strconv.Atoi(id)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.packages[n]
	if p == nil {
		return nil
	}
	q := *p
	s.fillStatus(&q)
	return &q
}

func (s *Server) deletePackage(ctx context.Context, id string) bool {
	n, err := strconv.Atoi(id)
	if err != nil {
		return false
	}
	s.mu.Lock()
	p := s.packages[n]
	delete(s.packages, n)
	s.mu.Unlock()
	if p == nil {
		return false
	}
	// Deleting a record deletes its file on the cloud distribution point.
	s.deleteFile(ctx, p.FileName)
	return true
}

// decodePackage validates a POST/PUT body against the schema: required
// fields, types, and a unique packageName.
func (s *Server) decodePackage(w http.ResponseWriter, r *http.Request, selfID string) (*Package, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeAPIError(w, 400, "INVALID_FIELD", "unreadable body")
		return nil, false
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		writeAPIError(w, 400, "INVALID_FIELD", "Unable to parse the request body")
		return nil, false
	}
	for _, f := range packageRequired {
		if v, ok := raw[f]; !ok || string(v) == "null" {
			writeAPIErrorField(w, 400, "INVALID_FIELD", f+" is required", f)
			return nil, false
		}
	}
	var p Package
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		field := ""
		if ute, ok := err.(*json.UnmarshalTypeError); ok {
			field = ute.Field
		}
		writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid value: "+err.Error(), field)
		return nil, false
	}
	if p.PackageName == "" || p.FileName == "" {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "packageName and fileName must not be empty", "packageName")
		return nil, false
	}
	if p.Priority < 1 || p.Priority > 20 {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "priority must be between 1 and 20", "priority")
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.CategoryID != "-1" {
		n, _ := strconv.Atoi(p.CategoryID)
		if _, ok := s.categories[n]; !ok {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Category with id "+p.CategoryID+" does not exist", "categoryId")
			return nil, false
		}
	}
	for _, o := range s.packages {
		if o.PackageName == p.PackageName && o.ID != selfID {
			writeAPIErrorField(w, 400, "DUPLICATE_FIELD", "packageName must be unique", "packageName")
			return nil, false
		}
	}
	return &p, true
}

// pendingUpload is a file received through /upload, processed after
// IngestDelay like JCDS processes its uploads.
type pendingUpload struct {
	pkgID   int
	file    StoredFile
	readyAt time.Time
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("id")
	n, _ := strconv.Atoi(id)
	p := s.pkg(id)
	if p == nil || !s.atLeast(11, 5) {
		writeAPIError(w, 404, "INVALID_ID", "Package with id "+id+" does not exist")
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
			writeAPIErrorField(w, 400, "INVALID_FILE_NAME", "File name must match the package's fileName", "file")
			return
		}
		key := "store/" + newUUID() + "/" + p.FileName
		pr, pw := io.Pipe()
		type sums struct {
			md5, sha string
			n        int64
			err      error
		}
		done := make(chan sums, 1)
		go func() {
			m, h, n, err := hashStream(pr)
			pr.CloseWithError(err)
			done <- sums{m, h, n, err}
		}()
		//lint:ignore SA1019 the simulator streams uploads of unknown length with the same (deprecated) manager
		up := manager.NewUploader(s.s3.Client())
		//lint:ignore SA1019 see above
		_, err = up.Upload(r.Context(), &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: io.TeeReader(part, pw)})
		pw.CloseWithError(err)
		res := <-done
		if err != nil || res.err != nil {
			writeAPIError(w, 500, "UPLOAD_FAILED", "The upload did not complete")
			return
		}
		s.mu.Lock()
		s.pendingUp = append(s.pendingUp, &pendingUpload{pkgID: n, readyAt: time.Now().Add(s.cfg.IngestDelay),
			file: StoredFile{FileName: p.FileName, Key: key, Length: res.n, MD5: res.md5, SHA3: res.sha}})
		s.mu.Unlock()
		writeJSON(w, 201, map[string]string{"id": id, "href": s.URL + "/api/v1/packages/" + id})
		return
	}
}

// ingestPackageUploads finishes processing /upload files: the file
// replaces any file of that name and the record gets Jamf's own hash.
func (s *Server) ingestPackageUploads() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []*pendingUpload
	for _, u := range s.pendingUp {
		if time.Now().Before(u.readyAt) {
			keep = append(keep, u)
			continue
		}
		f := u.file
		s.files[f.FileName] = &f
		if p := s.packages[u.pkgID]; p != nil {
			sha, md := f.SHA3, f.MD5
			typ := "SHA3_512"
			p.HashType, p.HashValue, p.MD5 = &typ, &sha, &md
			if s.atLeast(11, 25) {
				p.SHA3512 = &sha
			}
		}
	}
	s.pendingUp = keep
}

func (s *Server) handleCategories(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	var filter rsql
	if f := q.Get("filter"); f != "" {
		var err error
		if filter, err = parseRSQL(f, map[string]bool{"name": true, "priority": true, "id": true}); err != nil {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid filter: "+err.Error(), "filter")
			return
		}
	}
	page, size, ok := paging(q)
	if !ok {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid page or page-size", "page")
		return
	}
	type cat struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Priority int    `json:"priority"`
	}
	s.mu.Lock()
	var list []cat
	for id, n := range s.categories {
		c := cat{ID: strconv.Itoa(id), Name: n, Priority: 9}
		if filter == nil || filter.match(func(f string) (string, bool) {
			switch f {
			case "name":
				return c.Name, true
			case "id":
				return c.ID, true
			}
			return "9", true
		}) {
			list = append(list, c)
		}
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { a, _ := strconv.Atoi(list[i].ID); b, _ := strconv.Atoi(list[j].ID); return a < b })
	total := len(list)
	from, to := min(page*size, total), min(page*size+size, total)
	writeJSON(w, 200, map[string]any{"totalCount": total, "results": append([]cat{}, list[from:to]...)})
}

// ReplacePackage overwrites a record directly (test set-up: an admin's
// hand edit).
func (s *Server) ReplacePackage(id int, p Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ID = strconv.Itoa(id)
	s.packages[id] = &p
}
