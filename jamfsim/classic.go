package jamfsim

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
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
		w.Write(classicIDReply(n))
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
