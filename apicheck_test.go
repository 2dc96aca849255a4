package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/internal/apicheck"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// newCheckedSim is newSim with every Jamf Pro API exchange validated
// against Jamf's OpenAPI files (testdata/openapi); the test fails at its
// end if any request or answer broke them, or if none was checked.
func newCheckedSim(t *testing.T, cfg jamfsim.Config) *jamfsim.Server {
	t.Helper()
	cfg.Wrap = openAPIChecked(t, true)
	return newSim(t, cfg)
}

// openAPIChecked is a jamfsim.Config.Wrap validating every exchange; the
// test fails at its end on any violation (or, with requireSome, if
// nothing was checked).
func openAPIChecked(t *testing.T, requireSome bool) func(http.Handler) http.Handler {
	t.Helper()
	c, err := apicheck.Load("testdata/openapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if v := c.Violations(); len(v) > 0 {
			t.Errorf("%d OpenAPI violations:\n  %s", len(v), strings.Join(v, "\n  "))
		}
		if requireSome && c.Checked() == 0 {
			t.Error("no exchange was validated against the OpenAPI files")
		}
	})
	return c.Wrap
}

// An upload, its unchanged re-run and a replacement, on both routes:
// every request and answer as Jamf's files describe them.
func TestOpenAPIUploads(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  jamfsim.Config
	}{
		{"jcds2", jamfsim.Config{}},
		{"packages", jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newCheckedSim(t, tc.cfg)
			dir := t.TempDir()
			pkg := writePkg(t, dir, "Checked 1.0.pkg", 1<<20, 3)
			env := baseEnv(t, sim, pkg)
			env["pkg_category"] = "Applications"
			if out := mustRun(t, sim, env); out["pkg_uploaded"] != true {
				t.Fatalf("upload: %v", out)
			}
			if out := mustRun(t, sim, env); out["pkg_uploaded"] != false {
				t.Fatalf("re-run: %v", out)
			}
			writePkg(t, dir, "Checked 1.0.pkg", 1<<20, 4)
			env["replace_pkg"] = true
			if out := mustRun(t, sim, env); out["pkg_uploaded"] != true {
				t.Fatalf("replace: %v", out)
			}
			assertConverged(t, sim, "Checked 1.0.pkg", pkg)
		})
	}
}
