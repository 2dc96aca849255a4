package jamfsim

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
)

// The Classic API view of the same records: XML in, XML or JSON out.

func (s *Server) routeClassic(mux *http.ServeMux) {
	notFound := func(w http.ResponseWriter) {
		writeClassicError(w, 404, "The server has not found anything matching the request URI")
	}
	read, create, update, del := needs(PrivReadPackages), needs(PrivCreatePackages), needs(PrivUpdatePackages), needs(PrivDeletePackages)
	s.classic(mux, "GET /JSSResource/packages", read, func(w http.ResponseWriter, r *http.Request, _ string) {
		s.writeClassicList(w, r, "packages", "package", s.classicPackageNames())
	})
	s.classic(mux, "GET /JSSResource/packages/name/{name}", read, func(w http.ResponseWriter, r *http.Request, _ string) {
		s.writeClassicPackage(w, r, s.findByName(classicName(r)))
	})
	s.classic(mux, "GET /JSSResource/packages/id/{id}", read, func(w http.ResponseWriter, r *http.Request, _ string) {
		s.writeClassicPackage(w, r, s.pkg(r.PathValue("id")))
	})
	s.classic(mux, "POST /JSSResource/packages/id/{id}", create, func(w http.ResponseWriter, r *http.Request, _ string) {
		s.saveClassic(w, r, "")
	})
	s.classic(mux, "POST /JSSResource/packages/name/{name}", create, func(w http.ResponseWriter, r *http.Request, _ string) {
		s.saveClassic(w, r, "")
	})
	put := func(w http.ResponseWriter, r *http.Request, p *Package) {
		if p == nil {
			notFound(w)
			return
		}
		s.saveClassic(w, r, p.ID)
	}
	s.classic(mux, "PUT /JSSResource/packages/id/{id}", update, func(w http.ResponseWriter, r *http.Request, _ string) {
		put(w, r, s.pkg(r.PathValue("id")))
	})
	s.classic(mux, "PUT /JSSResource/packages/name/{name}", update, func(w http.ResponseWriter, r *http.Request, _ string) {
		put(w, r, s.findByName(classicName(r)))
	})
	remove := func(w http.ResponseWriter, r *http.Request, p *Package) {
		if p == nil || !s.deletePackage(r.Context(), p.ID) {
			notFound(w)
			return
		}
		n, _ := strconv.Atoi(p.ID)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(200)
		w.Write(classicxml.EncodeID(n))
	}
	s.classic(mux, "DELETE /JSSResource/packages/id/{id}", del, func(w http.ResponseWriter, r *http.Request, _ string) {
		remove(w, r, s.pkg(r.PathValue("id")))
	})
	s.classic(mux, "DELETE /JSSResource/packages/name/{name}", del, func(w http.ResponseWriter, r *http.Request, _ string) {
		remove(w, r, s.findByName(classicName(r)))
	})
	cat := func(w http.ResponseWriter, r *http.Request, id int) {
		if id == 0 {
			notFound(w)
			return
		}
		name := s.categoryName(strconv.Itoa(id))
		if strings.Contains(r.Header.Get("Accept"), "json") {
			writeJSON(w, 200, map[string]any{"category": map[string]any{"id": id, "name": name, "priority": 9}})
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><category><id>`+strconv.Itoa(id)+`</id><name>`+xmlEscape(name)+`</name><priority>9</priority></category>`)
	}
	readCat := needs(PrivReadCategories)
	s.classic(mux, "GET /JSSResource/categories", readCat, func(w http.ResponseWriter, r *http.Request, _ string) {
		s.mu.Lock()
		names := map[int]string{}
		for id, n := range s.categories {
			names[id] = n
		}
		s.mu.Unlock()
		s.writeClassicList(w, r, "categories", "category", names)
	})
	s.classic(mux, "GET /JSSResource/categories/name/{name}", readCat, func(w http.ResponseWriter, r *http.Request, _ string) {
		cat(w, r, s.categoryID(classicName(r)))
	})
	s.classic(mux, "GET /JSSResource/categories/id/{id}", readCat, func(w http.ResponseWriter, r *http.Request, _ string) {
		n, _ := strconv.Atoi(r.PathValue("id"))
		s.mu.Lock()
		_, ok := s.categories[n]
		s.mu.Unlock()
		if !ok {
			n = 0
		}
		cat(w, r, n)
	})
}

// classicName is the {name} path segment as the Classic API reads it:
// form-decoded, so a literal "+" is a space and only %2B is a plus
// (Jamf staff in Jamf-Concepts/jamf-cli #244).
func classicName(r *http.Request) string {
	p := r.URL.EscapedPath()
	raw := p[strings.LastIndex(p, "/name/")+len("/name/"):]
	name, err := url.QueryUnescape(raw)
	if err != nil {
		return r.PathValue("name")
	}
	return name
}

// classicPackageNames is every record's display name, by id.
func (s *Server) classicPackageNames() map[int]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]string{}
	for id, p := range s.packages {
		out[id] = p.PackageName
	}
	return out
}

// writeClassicList is a Classic list: {"packages": [{"id", "name"}]} in
// JSON, <packages><size/><package><id/><name/></package></packages> in XML.
func (s *Server) writeClassicList(w http.ResponseWriter, r *http.Request, plural, singular string, names map[int]string) {
	ids := make([]int, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	if strings.Contains(r.Header.Get("Accept"), "json") {
		list := []map[string]any{}
		for _, id := range ids {
			list = append(list, map[string]any{"id": id, "name": names[id]})
		}
		writeJSON(w, 200, map[string]any{plural: list})
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><` + plural + `><size>` + strconv.Itoa(len(ids)) + `</size>`)
	for _, id := range ids {
		b.WriteString(`<` + singular + `><id>` + strconv.Itoa(id) + `</id><name>` + xmlEscape(names[id]) + `</name></` + singular + `>`)
	}
	b.WriteString(`</` + plural + `>`)
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, b.String())
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

// findByName is the Classic look-up by name: the display name
// (packageName), never the file name.
func (s *Server) findByName(name string) *Package {
	s.mu.Lock()
	var id string
	for _, p := range s.packages {
		if s.sameName(p.PackageName, name) {
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
	switch s.duplicateField(c.Name, c.Filename, id) {
	case "packageName":
		s.mu.Unlock()
		writeClassicError(w, 409, "Duplicate name")
		return
	case "fileName":
		s.mu.Unlock()
		writeClassicError(w, 409, "Duplicate filename")
		return
	}
	var p *Package
	if id == "" {
		p = &Package{ID: strconv.Itoa(s.nextPkgID), CloudTransferStatus: statusPending, Size: ptr("")}
		s.packages[s.nextPkgID] = p
		s.nextPkgID++
	} else {
		n, _ := strconv.Atoi(id)
		p = s.packages[n]
		// An update blanks size until a refresh, as the Pro API's PUT does.
		p.Size = ptr("")
		if p.FileName != c.Filename {
			p.CloudTransferStatus = statusPending
		}
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
