package apicheck

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

const dir = "../../testdata/openapi"

// Row is an exception as a row of the README's table.
func (e Exception) Row() string {
	status := "any"
	switch {
	case e.Patch:
		status = "(files patched)"
	case e.Status == -5:
		status = "5xx"
	case e.Status > 0:
		status = fmt.Sprint(e.Status)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |", e.Method, e.Path, status, e.What, e.Why)
}

// The README's table and Exceptions are one list.
func TestExceptionsTableIsTheREADMEs(t *testing.T) {
	data, err := os.ReadFile(dir + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " | ") == 4 && !strings.HasPrefix(line, "| method") && !strings.HasPrefix(line, "| ---") {
			rows = append(rows, line)
		}
	}
	var want []string
	for _, e := range Exceptions {
		want = append(want, e.Row())
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("README table differs from Exceptions; want rows:\n%s", strings.Join(want, "\n"))
	}
}

// The checker accepts what the files describe and flags what they do
// not: a package list with a wrong type, an unknown path, an unlisted
// status with a body that is not an ApiError.
func TestCheckerFlagsViolations(t *testing.T) {
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]func(w http.ResponseWriter){
		"/api/v1/packages?page=0&page-size=100": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"totalCount":0,"results":[]}`)
		},
		"/api/v1/packages?page=0&page-size=1": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"totalCount":"many","results":[]}`)
		},
		"/api/v1/nothing-here": func(w http.ResponseWriter) { w.WriteHeader(200) },
		"/api/v1/packages/7": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(409)
			fmt.Fprint(w, `"no"`)
		},
	}
	srv := httptest.NewServer(c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answers[r.URL.RequestURI()](w)
	})))
	defer srv.Close()
	for _, p := range []string{"/api/v1/packages?page=0&page-size=100", "/api/v1/packages?page=0&page-size=1", "/api/v1/nothing-here", "/api/v1/packages/7"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	v := c.Violations()
	if len(v) != 3 || !strings.Contains(v[0], "totalCount") || !strings.Contains(v[1], "no operation") || !strings.Contains(v[2], "409") {
		t.Fatalf("violations: %q", v)
	}
}
