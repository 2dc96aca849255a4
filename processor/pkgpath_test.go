package processor

import (
	"os"
	"path/filepath"
	"testing"
)

// A pkg_path that is a symbolic link is resolved before flat or bundle is
// decided; the file name stays the link's, as in JamfPackageUploader.
func TestPkgPathSymlinkIsResolved(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "Real-1.0.pkg")
	os.MkdirAll(filepath.Join(bundle, "Contents"), 0o755)
	flat := filepath.Join(dir, "Firefox-120.0.pkg")
	os.WriteFile(flat, []byte("xar!"), 0o644)
	links := t.TempDir()
	for _, c := range []struct{ link, target, wantPath, wantName string }{
		{"Fluffy.pkg", bundle, bundle, "Fluffy.pkg.zip"},
		{"Firefox.pkg", flat, flat, "Firefox.pkg"},
	} {
		l := filepath.Join(links, c.link)
		if err := os.Symlink(c.target, l); err != nil {
			t.Fatal(err)
		}
		l2 := filepath.Join(links, "via-"+c.link) // a link to the link
		os.Symlink(l, l2)
		req, _, err := BuildRequest(baseEnvFor(t, l))
		if err != nil || req.PkgPath != c.wantPath || req.PkgName != c.wantName {
			t.Fatalf("%s: %+v %v", c.link, req, err)
		}
		if req, _, err := BuildRequest(baseEnvFor(t, l2)); err != nil || req.PkgPath != c.wantPath || req.PkgName != "via-"+c.wantName {
			t.Fatalf("via %s: %+v %v", c.link, req, err)
		}
	}
	// A dangling link is named as such.
	gone := filepath.Join(links, "Gone.pkg")
	os.Symlink(filepath.Join(dir, "nothing"), gone)
	if _, _, err := BuildRequest(baseEnvFor(t, gone)); err == nil || err.Error() != `pkg_path "`+gone+`" is a broken symbolic link: point it at the package file` {
		t.Fatalf("dangling: %v", err)
	}
}

// A bundle's name gets .zip unless it ends in .zip (in any case), not
// merely contains it.
func TestBundleNameZipSuffix(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "B.pkg")
	os.MkdirAll(filepath.Join(bundle, "Contents"), 0o755)
	for name, want := range map[string]string{"": "B.pkg.zip", "Custom.pkg.ZIP": "Custom.pkg.ZIP", "my.zipper.pkg": "my.zipper.pkg.zip", "a.zip.pkg": "a.zip.pkg.zip"} {
		env := baseEnvFor(t, bundle)
		env["pkg_name"] = name
		if req, _, err := BuildRequest(env); err != nil || req.PkgName != want {
			t.Errorf("%q: got %+v %v, want %s", name, req, err, want)
		}
	}
}
