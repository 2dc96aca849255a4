package jcds2

import (
	"archive/zip"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// makeBundle writes a small bundle package at dir/name.
func makeBundle(t *testing.T, dir, name string) string {
	t.Helper()
	b := filepath.Join(dir, name)
	for _, d := range []string{"Contents/Resources/en.lproj"} {
		if err := os.MkdirAll(filepath.Join(b, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range map[string]string{
		"Contents/Info.plist":                         "<plist/>",
		"Contents/Archive.pax.gz":                     strings.Repeat("payload ", 4096),
		"Contents/Resources/en.lproj/Description.txt": "hello",
	} {
		if err := os.WriteFile(filepath.Join(b, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// zipEntries lists a zip's entries: name, and for links the target.
func zipEntries(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		v := ""
		if f.Mode()&fs.ModeSymlink != 0 {
			r, _ := f.Open()
			b, _ := io.ReadAll(r)
			r.Close()
			v = "-> " + string(b)
		}
		out[f.Name] = v
	}
	return out
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// The zip is built in our cache directory whatever dir the engine passes,
// never beside the bundle: a user's file named like the zip survives, and
// no file is left beside the bundle.
func TestZipBundleNeverWritesBesideTheBundle(t *testing.T) {
	userCache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", userCache) // os.UserCacheDir on Linux
	t.Setenv("HOME", userCache)           // and on macOS
	home, _ := os.UserCacheDir()
	src := t.TempDir()
	bundle := makeBundle(t, src, "Fluffy.pkg")
	precious := filepath.Join(src, "Fluffy.pkg.zip")
	os.WriteFile(precious, []byte("the user's own file"), 0o644)
	before := listDir(t, src)

	recipeCache := t.TempDir()
	cases := []struct {
		name, dir, wantDir string
	}{
		{"no cache dir", "", filepath.Join(home, "jcds2-uploader", bundleDirName)},
		{"the bundle's parent (engine without RECIPE_CACHE_DIR)", src, filepath.Join(home, "jcds2-uploader", bundleDirName)},
		{"inside the bundle", filepath.Join(bundle, "Contents"), filepath.Join(home, "jcds2-uploader", bundleDirName)},
		{"the cache dir", recipeCache, filepath.Join(recipeCache, bundleDirName)},
		{"the cache's bundles folder (engine today)", filepath.Join(recipeCache, bundleDirName), filepath.Join(recipeCache, bundleDirName)},
	}
	for _, c := range cases {
		cache := openHashCache(t.TempDir(), nil)
		out, err := zipBundle(context.Background(), bundle, c.dir, "Fluffy.pkg.zip", cache)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if filepath.Dir(out) != c.wantDir {
			t.Fatalf("%s: zip at %s, want it in %s", c.name, out, c.wantDir)
		}
		if got := listDir(t, src); !slices.Equal(got, before) {
			t.Fatalf("%s: files beside the bundle changed: %v, was %v", c.name, got, before)
		}
		if data, _ := os.ReadFile(precious); string(data) != "the user's own file" {
			t.Fatalf("%s: the user's Fluffy.pkg.zip was overwritten", c.name)
		}
		if names := listDir(t, filepath.Join(bundle, "Contents")); len(names) != 3 {
			t.Fatalf("%s: the bundle changed: %v", c.name, names)
		}
		if st, _ := os.Stat(out); st.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s: zip mode %v", c.name, st.Mode())
		}
		if leftovers, _ := filepath.Glob(filepath.Join(c.wantDir, ".bundle-*")); len(leftovers) != 0 {
			t.Fatalf("%s: temporary files left: %v", c.name, leftovers)
		}
	}
	for _, bad := range []string{"", "../x.zip", "a/b.zip", "..", "."} {
		if _, err := zipBundle(context.Background(), bundle, recipeCache, bad, nil); err == nil {
			t.Fatalf("zip name %q accepted", bad)
		}
	}
}

// A pkg_path that is a link to a bundle zips the bundle, not the link.
func TestZipBundleFollowsALinkToTheBundle(t *testing.T) {
	src := t.TempDir()
	bundle := makeBundle(t, src, "Real-1.0.pkg")
	link := filepath.Join(t.TempDir(), "Fluffy.pkg")
	if err := os.Symlink(bundle, link); err != nil {
		t.Fatal(err)
	}
	link2 := filepath.Join(t.TempDir(), "Again.pkg") // a link to the link
	os.Symlink(link, link2)
	for _, p := range []string{link, link2} {
		out, err := zipBundle(context.Background(), p, t.TempDir(), "Fluffy.pkg.zip", nil)
		if err != nil {
			t.Fatal(err)
		}
		got := zipEntries(t, out)
		if _, ok := got["Real-1.0.pkg/Contents/Archive.pax.gz"]; !ok || len(got) != 7 {
			t.Fatalf("%s: entries %v", p, got)
		}
	}
	dangling := filepath.Join(t.TempDir(), "Gone.pkg")
	os.Symlink(filepath.Join(src, "nothing"), dangling)
	if _, err := zipBundle(context.Background(), dangling, t.TempDir(), "Gone.pkg.zip", nil); err == nil || !strings.Contains(err.Error(), "symbolic link that cannot be followed") {
		t.Fatalf("dangling root: %v", err)
	}
}

// The rule for links inside a bundle: relative and resolving inside is
// kept as a link; absolute, escaping, dangling and looping links fail,
// naming the link.
func TestZipBundleSymlinkRule(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("not part of the package"), 0o644)
	cases := []struct {
		name   string
		links  map[string]string // path in the bundle -> link text
		errHas string
	}{
		{"inside file", map[string]string{"Contents/Resources/Current.txt": "en.lproj/Description.txt"}, ""},
		{"inside dir", map[string]string{"Contents/Resources/English.lproj": "en.lproj"}, ""},
		{"up and back in", map[string]string{"Contents/Resources/en.lproj/Info.plist": "../../Info.plist"}, ""},
		{"chain inside", map[string]string{"Contents/a": "b", "Contents/b": "Info.plist"}, ""},
		{"escaping", map[string]string{"Contents/evil": "../../" + filepath.Base(filepath.Dir(outside))}, `holds a symbolic link "Contents/evil" -> "../../`},
		{"absolute outside", map[string]string{"Contents/evil": outside}, `that is absolute`},
		{"absolute inside", map[string]string{"Contents/abs": "$BUNDLE/Contents/Info.plist"}, `that is absolute`},
		{"dangling", map[string]string{"Contents/gone": "nothing-here"}, `"Contents/gone" -> "nothing-here" that points at nothing`},
		{"loop", map[string]string{"Contents/x": "y", "Contents/y": "x"}, "that cannot be followed"},
		{"escaping through another link", map[string]string{"Contents/Resources/up": "../..", "Contents/Resources/via": "up/../../.."}, "outside the bundle"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bundle := makeBundle(t, t.TempDir(), "Linky.pkg")
			for p, target := range c.links {
				if err := os.Symlink(strings.ReplaceAll(target, "$BUNDLE", bundle), filepath.Join(bundle, p)); err != nil {
					t.Fatal(err)
				}
			}
			out, err := zipBundle(context.Background(), bundle, t.TempDir(), "Linky.pkg.zip", nil)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) || !strings.HasPrefix(err.Error(), `bundle "`+bundle+`" holds a symbolic link`) {
					t.Fatalf("got %v, want an error with %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := zipEntries(t, out)
			for p, target := range c.links {
				if got["Linky.pkg/"+p] != "-> "+target {
					t.Fatalf("%s: stored as %q, want a link to %s (entries %v)", p, got["Linky.pkg/"+p], target, got)
				}
			}
			for name := range got {
				if strings.Contains(name, "secret") {
					t.Fatal("a file from outside the bundle was zipped")
				}
			}
		})
	}
}

// Zipping an unchanged bundle again gives the same file and bytes, so an
// unchanged bundle is not uploaded again.
func TestZipBundleIsReproducible(t *testing.T) {
	bundle := makeBundle(t, t.TempDir(), "Same.pkg")
	dir := t.TempDir()
	cache := openHashCache(t.TempDir(), nil)
	a, err := zipBundle(context.Background(), bundle, dir, "Same.pkg.zip", cache)
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := HashFile(a, true, false)
	st1, _ := os.Stat(a)
	b, err := zipBundle(context.Background(), bundle, dir, "Same.pkg.zip", openHashCache(filepath.Dir(cache.path), nil))
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashFile(b, true, false)
	st2, _ := os.Stat(b)
	if a != b || h1 != h2 || !os.SameFile(st1, st2) {
		t.Fatalf("rezipping changed the zip: %s %s %v %v", a, b, h1, h2)
	}
	if got := openHashCache(filepath.Dir(cache.path), nil).Get(b); got.MD5 != h1.MD5 {
		t.Fatalf("cached %+v, want %s", got, h1.MD5)
	}
}
