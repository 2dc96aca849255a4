package doctor

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const plistRecipe = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>Input</key><dict><key>NAME</key><string>Chrome</string><key>CATEGORY</key><string>Browsers</string></dict>
  <key>Process</key><array><dict>
    <key>Processor</key><string>com.github.jcds2-uploader.processors/JCDS2PackageUploader</string>
    <key>Arguments</key><dict><key>pkg_category</key><string>%CATEGORY%</string></dict>
  </dict></array>
</dict></plist>`

func TestScanRecipes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recipes")
	writeFile(t, filepath.Join(dir, "Chrome.jamf.recipe"), plistRecipe)
	writeFile(t, filepath.Join(dir, "sub", "Firefox.jamf.recipe.yaml"), `
Input:
  NAME: Firefox
  CATEGORY: Browsers
  POLICY_CATEGORY: Testing
Process:
  - Processor: JamfPackageUploader
    Arguments:
      pkg_category: "%CATEGORY%"
  - Processor: Other
    Arguments:
      pkg_category: "Utilities %NAME%"
`)
	writeFile(t, filepath.Join(dir, "overrides", "local.Firefox.recipe.yaml"), "Input:\n  PKG_CATEGORY: Web Browsers\n")
	writeFile(t, filepath.Join(dir, "Parent.pkg.recipe.plist"), strings.Replace(plistRecipe, "<key>CATEGORY</key><string>Browsers</string>", "", 1))
	writeFile(t, filepath.Join(dir, "Broken.recipe.yaml"), "Input: [unclosed\n")
	writeFile(t, filepath.Join(dir, ".git", "Hidden.recipe.yaml"), "Input:\n  CATEGORY: Hidden\n")
	writeFile(t, filepath.Join(dir, "README.md"), "CATEGORY: not a recipe\n")

	scan, err := ScanRecipes([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Browsers":          {"recipes/Chrome.jamf.recipe", "recipes/sub/Firefox.jamf.recipe.yaml"},
		"Utilities Firefox": {"recipes/sub/Firefox.jamf.recipe.yaml"},
		"Web Browsers":      {"recipes/overrides/local.Firefox.recipe.yaml"},
	}
	if !reflect.DeepEqual(scan.Categories, want) {
		t.Fatalf("categories:\n got %v\nwant %v", scan.Categories, want)
	}
	if scan.Files != 4 {
		t.Fatalf("files: got %d, want 4 (the broken one is not counted)", scan.Files)
	}
	if len(scan.Unresolved) != 1 || scan.Unresolved[0] != "recipes/Parent.pkg.recipe.plist: %CATEGORY%" {
		t.Fatalf("unresolved: %v", scan.Unresolved)
	}
	if len(scan.Unreadable) != 1 || !strings.HasPrefix(scan.Unreadable[0], "recipes/Broken.recipe.yaml (not valid YAML") {
		t.Fatalf("unreadable: %v", scan.Unreadable)
	}
}

func TestScanRecipesBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := ScanRecipes([]string{filepath.Join(dir, "nope")}); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("a missing folder: %v", err)
	}
	file := filepath.Join(dir, "x.recipe")
	writeFile(t, file, plistRecipe)
	if _, err := ScanRecipes([]string{file}); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Fatalf("a file for a folder: %v", err)
	}
	// Hostile files are reported, never a crash: too big, binary junk,
	// a plist whose top level is a list, a YAML alias bomb.
	writeFile(t, filepath.Join(dir, "r", "Big.recipe"), strings.Repeat("x", maxRecipeBytes+1))
	writeFile(t, filepath.Join(dir, "r", "Junk.recipe"), "bplist00\x00\x01\x02garbage")
	writeFile(t, filepath.Join(dir, "r", "List.recipe"), `<?xml version="1.0"?><plist version="1.0"><array><string>x</string></array></plist>`)
	writeFile(t, filepath.Join(dir, "r", "Bomb.recipe.yaml"), "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n")
	scan, err := ScanRecipes([]string{filepath.Join(dir, "r")})
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Unreadable) != 4 || len(scan.Categories) != 0 {
		t.Fatalf("want 4 unreadable files and no category, got %v %v", scan.Unreadable, scan.Categories)
	}
}
