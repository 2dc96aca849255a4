package jamfsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
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
		out[id] = *p
	}
	return out
}

// Package returns one record as a client would read it.
func (s *Server) Package(id int) (Package, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.packages[id]
	if p == nil {
		return Package{}, false
	}
	return *p, true
}

// AddPackage creates a record directly (test set-up) and returns its id.
// Unless p says otherwise it is PENDING with size "", as a new record is.
func (s *Server) AddPackage(p Package) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextPkgID
	s.nextPkgID++
	p.ID = strconv.Itoa(id)
	if p.CloudTransferStatus == "" {
		p.CloudTransferStatus = statusPending
	}
	if p.Size == nil {
		p.Size = ptr("")
	}
	s.packages[id] = &p
	return id
}

// Cloud distribution point inventory statuses.
const (
	statusReady   = "READY"
	statusPending = "PENDING"
)

func ptr(s string) *string { return &s }

// hasPackagesAPI: the Jamf Pro API packages endpoints arrived in 11.5.
func (s *Server) hasPackagesAPI() bool { return s.atLeast(11, 5) }

func (s *Server) routePackages(mux *http.ServeMux) {
	pkgs := func(pattern string, n need, h handler) { s.api(mux, pattern, s.hasPackagesAPI, n, h) }
	pkgs("GET /api/v1/packages", needs(PrivReadPackages), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.Ingest(r.Context())
		q := r.URL.Query()
		var filter rsql
		if f := q.Get("filter"); f != "" {
			var err error
			if filter, err = parseRSQL(f, packageFilterFields, s.foldedFields("packageName", "fileName")); err != nil {
				writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid filter: "+err.Error(), "filter")
				return
			}
		}
		s.mu.Lock()
		var list []Package
		for _, p := range s.packages {
			if q := *p; filter == nil || filter.match(packageField(&q)) {
				list = append(list, q)
			}
		}
		s.mu.Unlock()
		if !sortPackages(list, q.Get("sort")) {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid sort", "sort")
			return
		}
		from, to, ok := pageOf(q, len(list))
		if !ok {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid page or page-size", "page")
			return
		}
		writeJSON(w, 200, map[string]any{"totalCount": len(list), "results": append([]Package{}, list[from:to]...)})
	})
	pkgs("POST /api/v1/packages", needs(PrivCreatePackages), func(w http.ResponseWriter, r *http.Request, _ string) {
		p, ok := s.decodePackage(w, r, "")
		if !ok {
			return
		}
		s.mu.Lock()
		id := s.nextPkgID
		s.nextPkgID++
		p.ID = strconv.Itoa(id)
		// A size sent on POST is dropped: only the inventory sets it.
		p.CloudTransferStatus, p.Size = statusPending, ptr("")
		s.packages[id] = p
		s.mu.Unlock()
		writeJSON(w, 201, map[string]string{"id": p.ID, "href": s.URL + "/api/v1/packages/" + p.ID})
	})
	pkgs("GET /api/v1/packages/{id}", needs(PrivReadPackages), func(w http.ResponseWriter, r *http.Request, _ string) {
		s.Ingest(r.Context())
		p := s.pkg(r.PathValue("id"))
		if p == nil {
			writeAPIError(w, 404, "INVALID_ID", "Package with id "+r.PathValue("id")+" does not exist")
			return
		}
		writeJSON(w, 200, p)
	})
	pkgs("PUT /api/v1/packages/{id}", needs(PrivUpdatePackages), func(w http.ResponseWriter, r *http.Request, _ string) {
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
		old := s.packages[n]
		if old == nil { // deleted while the body was read
			s.mu.Unlock()
			writeAPIError(w, 404, "INVALID_ID", "Package with id "+id+" does not exist")
			return
		}
		p.ID = id
		// A PUT replaces the record but not what the server manages: the
		// inventory status stays (a new fileName is not inventoried yet),
		// and size is blanked whatever the body says, until a refresh.
		p.CloudTransferStatus, p.Size = old.CloudTransferStatus, ptr("")
		if p.FileName != old.FileName {
			p.CloudTransferStatus = statusPending
		}
		s.packages[n] = p
		q := *p
		s.mu.Unlock()
		writeJSON(w, 200, q)
	})
	pkgs("DELETE /api/v1/packages/{id}", needs(PrivDeletePackages), func(w http.ResponseWriter, r *http.Request, _ string) {
		if !s.deletePackage(r.Context(), r.PathValue("id")) {
			writeAPIError(w, 404, "INVALID_ID", "Package with id "+r.PathValue("id")+" does not exist")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	pkgs("POST /api/v1/packages/{id}/upload", needs(PrivUpdatePackages, PrivReadPackages), s.handleUpload)
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
	// Jamf manages these; whatever the client sent is ignored.
	p.CloudTransferStatus, p.Size = "", nil
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.CategoryID != "-1" {
		n, _ := strconv.Atoi(p.CategoryID)
		if _, ok := s.categories[n]; !ok {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Category with id "+p.CategoryID+" does not exist", "categoryId")
			return nil, false
		}
	}
	if field := s.duplicateField(p.PackageName, p.FileName, selfID); field != "" {
		writeAPIErrorField(w, 400, "DUPLICATE_FIELD", field+" must be unique", field)
		return nil, false
	}
	return &p, true
}

// duplicateField names the field (packageName, then fileName) another
// record already has, or "". Jamf keeps both unique; JamfSync #31 says
// the file name check came later than the display name one. Callers hold
// s.mu.
func (s *Server) duplicateField(packageName, fileName, selfID string) string {
	for _, o := range s.packages {
		if o.ID == selfID {
			continue
		}
		if s.sameName(o.PackageName, packageName) {
			return "packageName"
		}
		if s.sameName(o.FileName, fileName) {
			return "fileName"
		}
	}
	return ""
}

// ReplacePackage overwrites a record directly (test set-up: an admin's
// hand edit).
func (s *Server) ReplacePackage(id int, p Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ID = strconv.Itoa(id)
	s.packages[id] = &p
}
