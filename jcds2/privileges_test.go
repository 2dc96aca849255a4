package jcds2

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// requiredPrivileges reads x-required-privileges from Jamf's OpenAPI
// files in testdata/openapi, by "METHOD /api/path".
func requiredPrivileges(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("../testdata/openapi/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no OpenAPI files: %v", err)
	}
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]struct {
				Privs []string `yaml:"x-required-privileges"`
			} `yaml:"paths"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				if op.Privs != nil {
					out[strings.ToUpper(method)+" /api"+path] = op.Privs
				}
			}
		}
	}
	return out
}

// Every privilege the table says a route needs is one that Jamf's
// OpenAPI lists for the call that needs it, and every route the engine
// can take (clouds) has its row: a new route cannot forget it.
func TestRouteNeedsMatchTheOpenAPI(t *testing.T) {
	req := requiredPrivileges(t)
	for _, v := range []jamf.ServerVersion{{Raw: "11.4.0", Major: 11, Minor: 4}, {Raw: "11.23.2", Major: 11, Minor: 23, Patch: 2}, {Raw: "11.30.1", Major: 11, Minor: 30, Patch: 1}} {
		raw := v.Raw
		for route := range clouds {
			if route == routeSync {
				continue // cloud_fake_test.go's sketch of a route: the planner's side only
			}
			needs := RouteNeeds(route, v)
			if len(needs) == 0 {
				t.Errorf("%s on %s: no privileges listed (add its row to RouteNeeds)", route, raw)
			}
			seen := map[string]bool{}
			for _, n := range needs {
				privs, ok := req[n.Endpoint]
				if !ok {
					t.Errorf("%s: %s is in no OpenAPI file", route, n.Endpoint)
				} else if !slices.Contains(privs, n.Privilege) {
					t.Errorf("%s: %s needs %q, not %q", route, n.Endpoint, privs, n.Privilege)
				}
				if seen[n.Privilege] {
					t.Errorf("%s on %s lists %q twice", route, raw, n.Privilege)
				}
				seen[n.Privilege] = true
			}
		}
	}
	if RouteNeeds(RouteAuto, jamf.ServerVersion{Major: 11, Minor: 30}) != nil {
		t.Error("RouteAuto: the rule picks a route first; it has no privileges of its own")
	}
}

// The table says what a run does: on 11.5+ a JCDS run that may not
// create JCDS files falls back to the packages route (not fatal), and
// before 11.5 it cannot; the refresh privilege from 11.24 only.
func TestRouteNeedsFollowTheRouteRule(t *testing.T) {
	find := func(route Route, v jamf.ServerVersion, priv string) (Need, bool) {
		for _, n := range RouteNeeds(route, v) {
			if n.Privilege == priv {
				return n, true
			}
		}
		return Need{}, false
	}
	old, mid, new := jamf.ServerVersion{Major: 11, Minor: 4}, jamf.ServerVersion{Major: 11, Minor: 23}, jamf.ServerVersion{Major: 11, Minor: 30}
	if n, _ := find(RouteJCDS2, old, jamf.PrivCreateJCDS); !n.Fatal {
		t.Error("before 11.5, Create JCDS Files is fatal: there is no other route")
	}
	if n, _ := find(RouteJCDS2, new, jamf.PrivCreateJCDS); n.Fatal {
		t.Error("from 11.5, a refused JCDS upload takes the packages route")
	}
	if _, ok := find(RouteJCDS2, mid, PrivReadCloudDP); ok {
		t.Error("before 11.24 the JCDS route refreshes through JCDS")
	}
	if _, ok := find(RouteJCDS2, new, PrivReadCloudDP); !ok {
		t.Error("from 11.24 the JCDS route refreshes through the cloud distribution point")
	}
	if n, _ := find(RoutePackages, new, PrivUpdatePackages); !n.Fatal || n.Step != StepUpload {
		t.Errorf("the packages upload needs Update Packages: %+v", n)
	}
}
