package jamfsim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

func (s *Server) routeCategories(mux *http.ServeMux) {
	// The schema lists Read Categories and Read Self Service; either one
	// reads categories (JamfPackageUploader's roles hold only the first).
	s.api(mux, "GET /api/v1/categories", always, anyOf(PrivReadCategories, PrivReadSelfService), s.handleCategories)
	s.api(mux, "POST /api/v1/categories", always, needs(PrivCreateCategories), func(w http.ResponseWriter, r *http.Request, _ string) {
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
			if s.sameName(n, c.Name) {
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
	})
}

type category struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Priority int    `json:"priority"`
}

func (s *Server) handleCategories(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	var filter rsql
	if f := q.Get("filter"); f != "" {
		var err error
		if filter, err = parseRSQL(f, map[string]bool{"name": true, "priority": true, "id": true}, s.foldedFields("name")); err != nil {
			writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid filter: "+err.Error(), "filter")
			return
		}
	}
	s.mu.Lock()
	var list []category
	for id, n := range s.categories {
		c := category{ID: strconv.Itoa(id), Name: n, Priority: 9}
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
	from, to, ok := pageOf(q, len(list))
	if !ok {
		writeAPIErrorField(w, 400, "INVALID_FIELD", "Invalid page or page-size", "page")
		return
	}
	writeJSON(w, 200, map[string]any{"totalCount": len(list), "results": append([]category{}, list[from:to]...)})
}

// pageOf reads page and page-size (defaults 0 and 100) and returns the
// slice bounds of that page in a list of total items.
func pageOf(q map[string][]string, total int) (from, to int, ok bool) {
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
	if !ok1 || !ok2 || size <= 0 || size > 2000 {
		return 0, 0, false
	}
	return min(page*size, total), min(page*size+size, total), true
}

// sameName compares names as this server's database does: exactly, or
// ignoring letter case with CaseInsensitiveNames.
func (s *Server) sameName(a, b string) bool {
	if s.cfg.CaseInsensitiveNames {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// foldedFields are the RSQL fields whose == ignores case on this server.
func (s *Server) foldedFields(fields ...string) map[string]bool {
	out := map[string]bool{}
	if s.cfg.CaseInsensitiveNames {
		for _, f := range fields {
			out[f] = true
		}
	}
	return out
}

// categoryID finds a category by name; 0 if there is none.
func (s *Server) categoryID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.categories {
		if s.sameName(n, name) {
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
