package jamfsim

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
)

// The Classic API view of the same records: XML in, XML or JSON out.

func (s *Server) routeClassic(mux *http.ServeMux) {
	mux.HandleFunc("GET /JSSResource/packages/name/{name}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		s.writeClassicPackage(w, r, s.findByName(r.PathValue("name")))
	}))
	mux.HandleFunc("GET /JSSResource/packages/id/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		s.writeClassicPackage(w, r, s.pkg(r.PathValue("id")))
	}))
	mux.HandleFunc("POST /JSSResource/packages/id/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		s.saveClassic(w, r, "")
	}))
	mux.HandleFunc("PUT /JSSResource/packages/id/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		id := r.PathValue("id")
		if s.pkg(id) == nil {
			writeClassicError(w, 404, "The server has not found anything matching the request URI")
			return
		}
		s.saveClassic(w, r, id)
	}))
	mux.HandleFunc("DELETE /JSSResource/packages/id/{id}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		id := r.PathValue("id")
		if !s.deletePackage(r.Context(), id) {
			writeClassicError(w, 404, "The server has not found anything matching the request URI")
			return
		}
		n, _ := strconv.Atoi(id)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(200)
		w.Write(classicxml.EncodeID(n))
	}))
	mux.HandleFunc("GET /JSSResource/categories/name/{name}", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		id := s.categoryID(r.PathValue("name"))
		if id == 0 {
			writeClassicError(w, 404, "The server has not found anything matching the request URI")
			return
		}
		if strings.Contains(r.Header.Get("Accept"), "json") {
			writeJSON(w, 200, map[string]any{"category": map[string]any{"id": id, "name": r.PathValue("name"), "priority": 9}})
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><category><id>`+strconv.Itoa(id)+`</id><name>`+xmlEscape(r.PathValue("name"))+`</name><priority>9</priority></category>`)
	}))
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Server) categoryID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.categories {
		if n == name {
			return id
		}
	}
	return 0
}

func (s *Server) categoryName(id string) string {
	n, _ := strconv.Atoi(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.categories[n]; ok {
		return c
	}
	return "No category assigned"
}

func (s *Server) findByName(name string) *Package {
	s.mu.Lock()
	var id string
	for _, p := range s.packages {
		if p.PackageName == name {
			id = p.ID
		}
	}
	s.mu.Unlock()
	if id == "" {
		return nil
	}
	return s.pkg(id)
}

func (s *Server) toClassic(p *Package) *classicxml.Package {
	n, _ := strconv.Atoi(p.ID)
	return &classicxml.Package{
		ID: n, Name: p.PackageName, Category: s.categoryName(p.CategoryID), Filename: p.FileName,
		Info: deref(p.Info), Notes: deref(p.Notes), Priority: p.Priority,
		RebootRequired: classicxml.Bool(p.RebootRequired), FillUserTemplate: classicxml.Bool(p.FillUserTemplate),
		FillExistingUsers: classicxml.Bool(p.FillExistingUsers), OSRequirements: deref(p.OSRequirements),
		RequiredProcessor: "None", HashType: deref(p.HashType), HashValue: deref(p.HashValue),
		SwitchWithPackage: "Do Not Install", ReinstallOption: "Do Not Reinstall",
	}
}

func (s *Server) writeClassicPackage(w http.ResponseWriter, r *http.Request, p *Package) {
	if p == nil {
		writeClassicError(w, 404, "The server has not found anything matching the request URI")
		return
	}
	c := s.toClassic(p)
	if strings.Contains(r.Header.Get("Accept"), "json") {
		writeJSON(w, 200, map[string]any{"package": map[string]any{
			"id": c.ID, "name": c.Name, "category": c.Category, "filename": c.Filename, "info": c.Info,
			"notes": c.Notes, "priority": c.Priority, "reboot_required": bool(c.RebootRequired),
			"os_requirements": c.OSRequirements, "required_processor": c.RequiredProcessor,
			"hash_type": c.HashType, "hash_value": c.HashValue, "send_notification": false,
		}})
		return
	}
	body, _ := classicxml.Encode(c)
	w.Header().Set("Content-Type", "application/xml")
	w.Write(body)
}

func (s *Server) saveClassic(w http.ResponseWriter, r *http.Request, id string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeClassicError(w, 400, "Unable to read the request")
		return
	}
	c, err := classicxml.Decode(data)
	if err != nil {
		writeClassicError(w, 400, "Problem with the XML: "+err.Error())
		return
	}
	if c.Name == "" || c.Filename == "" {
		writeClassicError(w, 409, "Missing name or filename")
		return
	}
	catID := "-1"
	if c.Category != "" && c.Category != "No category assigned" {
		n := s.categoryID(c.Category)
		if n == 0 {
			writeClassicError(w, 409, "Problem with category")
			return
		}
		catID = strconv.Itoa(n)
	}
	s.mu.Lock()
	for _, o := range s.packages {
		if o.PackageName == c.Name && o.ID != id {
			s.mu.Unlock()
			writeClassicError(w, 409, "Duplicate name")
			return
		}
	}
	var p *Package
	if id == "" {
		p = &Package{ID: strconv.Itoa(s.nextPkgID)}
		s.packages[s.nextPkgID] = p
		s.nextPkgID++
	} else {
		n, _ := strconv.Atoi(id)
		p = s.packages[n]
	}
	p.PackageName, p.FileName, p.CategoryID = c.Name, c.Filename, catID
	info, notes, osr := c.Info, c.Notes, c.OSRequirements
	p.Info, p.Notes, p.OSRequirements = &info, &notes, &osr
	p.Priority = max(c.Priority, 1)
	p.RebootRequired = bool(c.RebootRequired)
	p.FillUserTemplate, p.FillExistingUsers = bool(c.FillUserTemplate), bool(c.FillExistingUsers)
	if c.HashType != "" {
		ht, hv := c.HashType, c.HashValue
		p.HashType, p.HashValue = &ht, &hv
	}
	n, _ := strconv.Atoi(p.ID)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(201)
	w.Write(classicxml.EncodeID(n))
}
