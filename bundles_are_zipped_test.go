package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// A bundle package (a folder) is zipped for the upload, symlinks and
// all, and the zip never lands beside the bundle.

func makeBundleAt(t *testing.T, dir, name string) string {
	t.Helper()
	b := filepath.Join(dir, name)
	os.MkdirAll(filepath.Join(b, "Contents", "Resources", "en.lproj"), 0o755)
	os.WriteFile(filepath.Join(b, "Contents", "Info.plist"), []byte("<plist/>"), 0o644)
	os.WriteFile(filepath.Join(b, "Contents", "Archive.pax.gz"), make([]byte, 200<<10), 0o644)
	os.WriteFile(filepath.Join(b, "Contents", "Resources", "en.lproj", "Description.txt"), []byte("hi"), 0o644)
	return b
}

// A pkg_path that is a link to a bundle uploads the bundle's zip (it used
// to upload a 172-byte zip of the link, reported verified); a link inside
// the bundle that stays inside is kept; one that escapes fails first.
func TestBundleSymlinksEndToEnd(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	bundle := makeBundleAt(t, t.TempDir(), "Real-2.0.pkg")
	os.Symlink("en.lproj", filepath.Join(bundle, "Contents", "Resources", "English.lproj"))
	link := filepath.Join(t.TempDir(), "Fluffy.pkg")
	if err := os.Symlink(bundle, link); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(t, sim, link)
	out := mustRun(t, sim, env)
	zipPath := filepath.Join(env["RECIPE_CACHE_DIR"].(string), "jcds2-uploader-bundles", "Fluffy.pkg.zip")
	st, err := os.Stat(zipPath)
	if err != nil || st.Size() < 1000 || out["pkg_name"] != "Fluffy.pkg.zip" {
		t.Fatalf("zip %v %v, outputs %v", st, err, out)
	}
	assertConverged(t, sim, "Fluffy.pkg.zip", zipPath)

	// An escaping link: exit 10, one line naming it, no request.
	os.Symlink("../../../../etc", filepath.Join(bundle, "Contents", "Resources", "escape"))
	sim.ResetLog()
	r := runEnv(t, sim, baseEnv(t, sim, link), processor.FormatBinary)
	wantOneLine(t, "escaping link", r, `pkg_path bundle "`+bundle+`" holds a symbolic link "Contents/Resources/escape" -> "../../../../etc" that points outside the bundle`, 0)
	if log := sim.Log(); len(log) != 0 {
		t.Fatalf("requests before the bundle was checked: %v", log)
	}
}

// Without a cache directory the zip goes to the user's cache, never
// beside the bundle: a file of the zip's name there survives.
func TestBundleZipNeverLandsBesideTheBundle(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	src := t.TempDir()
	bundle := makeBundleAt(t, src, "Fluffy.pkg")
	precious := filepath.Join(src, "Fluffy.pkg.zip")
	os.WriteFile(precious, []byte("mine"), 0o644)
	userCache := t.TempDir()
	env := baseEnv(t, sim, bundle)
	delete(env, "RECIPE_CACHE_DIR")
	r := runWith(t, sim, env, "XDG_CACHE_HOME="+userCache, "HOME="+userCache)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(precious); string(data) != "mine" {
		t.Fatal("the user's Fluffy.pkg.zip was overwritten")
	}
	if es, _ := os.ReadDir(src); len(es) != 2 {
		t.Fatalf("files appeared beside the bundle: %v", es)
	}
	cached, _ := filepath.Glob(filepath.Join(userCache, "*", "jcds2-uploader", "jcds2-uploader-bundles", "Fluffy.pkg.zip"))
	if more, _ := filepath.Glob(filepath.Join(userCache, "jcds2-uploader", "jcds2-uploader-bundles", "Fluffy.pkg.zip")); len(more) == 1 {
		cached = append(cached, more...)
	}
	if len(cached) != 1 {
		t.Fatalf("the zip is not in the user's cache %s", userCache)
	}
	assertConverged(t, sim, "Fluffy.pkg.zip", cached[0])
}
