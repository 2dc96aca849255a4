package main

// The real AutoPkg against a real release: GoReleaser's snapshot of this
// checkout served from a loopback HTTPS host, this repository as the
// release's pin commit leaves it, added with `autopkg repo-add` as a Mac
// admin does (autopkg_admin_test.go), the example recipes with Linux
// stand-ins for their parents (testdata/shimtest/parents), a preferences
// plist and a cache in temp dirs, and `jcds2-uploader sim` as Jamf Pro.
// Every run is `autopkg` as a subprocess: its exit code, its output, its
// --report-plist and its receipt are the contract.
//
// It lives in release/ because it tests the release: the bytes GoReleaser
// makes and the shim `go run ./release pin` writes for them, with no
// layout code of its own to drift from theirs.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

const (
	stepName  = "com.github.jcds2-uploader.processors/JCDS2PackageUploader"
	chromeID  = "com.github.jcds2-uploader.jamf.GoogleChrome"
	chromePkg = "GoogleChrome-120.0.6099.109.pkg" // NAME-version from the stand-in parent
)

// requireAutoPkg turns a missing AutoPkg into a failure (CI sets it).
const requireAutoPkg = "JCDS2_REQUIRE_AUTOPKG"

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(requireAutoPkg) == "1" {
		t.Fatalf("%s (%s=1, so this is a failure, not a skip)", msg, requireAutoPkg)
	}
	t.Skipf("%s; skipping the real-AutoPkg test (set %s=1 to make this a failure)", msg, requireAutoPkg)
}

// autoPkg is an AutoPkg checkout and the Python that can run it.
type autoPkg struct{ python, script string }

// findAutoPkg looks at $AUTOPKG_DIR, else ../shared/tools/autopkg beside
// the repository (a checkout or its Code/ dir), and picks the first
// interpreter that runs `autopkg version`: $AUTOPKG_PYTHON, Debian's
// /usr/bin/python3 (where apt puts python3-yaml, -appdirs, -xattr,
// -lxml), then python3 on PATH.
func findAutoPkg(t *testing.T) autoPkg {
	t.Helper()
	dir, explicit := os.Getenv("AUTOPKG_DIR"), os.Getenv("AUTOPKG_DIR") != ""
	if !explicit {
		repo, err := filepath.Abs("..")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(repo, "..", "shared", "tools", "autopkg")
	}
	var script string
	for _, p := range []string{filepath.Join(dir, "Code", "autopkg"), filepath.Join(dir, "autopkg")} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			script = p
			break
		}
	}
	switch {
	case script == "" && explicit:
		t.Fatalf("AUTOPKG_DIR is %s, which holds neither Code/autopkg nor autopkg", dir)
	case script == "":
		skipOrFail(t, "no AutoPkg at %s (beside the repository): set AUTOPKG_DIR to an AutoPkg checkout", dir)
	}
	var tried []string
	for _, py := range []string{os.Getenv("AUTOPKG_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		cmd := exec.Command(py, "-B", script, "version")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PYTHONDONTWRITEBYTECODE=1"}
		out, err := cmd.Output()
		if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); err == nil && lines[0] != "" {
			// On Linux the last line; Foundation import warnings come first.
			t.Logf("AutoPkg %s: %s %s", lines[len(lines)-1], py, script)
			return autoPkg{python: py, script: script}
		}
		msg := "printed no version"
		if err != nil {
			msg = err.Error()
		}
		if ee, ok := err.(*exec.ExitError); ok {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			msg = lines[len(lines)-1]
		}
		tried = append(tried, py+": "+msg)
	}
	skipOrFail(t, "no Python can run %s (%s): install python3-yaml python3-appdirs python3-xattr python3-lxml (Debian), or set AUTOPKG_PYTHON",
		script, strings.Join(tried, "; "))
	return autoPkg{}
}

func TestAutoPkg(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the real-AutoPkg test runs about 20 autopkg processes")
	}
	w := newWorld(t, findAutoPkg(t))
	// First what a new Mac admin does, on a Jamf Pro of its own; it leaves
	// the repository added (w.clone, in the search dirs of every later
	// run) and the binary downloaded (w.binCache, seeded into their caches).
	newMacAdmin(t, w)
	if t.Failed() {
		return
	}
	sv := w.sim.vars
	// The user:password pair too: base64 of it is an HTTP basic auth header.
	secrets := []string{sv["API_PASSWORD"], sv["CLIENT_SECRET"], sv["API_USERNAME"] + ":" + sv["API_PASSWORD"]}
	chrome := filepath.Join(w.clone, "recipes", "GoogleChrome.jamf.recipe")
	first := []byte("GoogleChrome package, first build") // the stand-in parent's PKG_CONTENT
	second := []byte("GoogleChrome package, second build")

	// Every run at -vv: no secret in what AutoPkg printed, in the report,
	// or in the receipt's step records. The receipt's "Recipe input" and
	// autopkg_results.plist are AutoPkg's own copy of its whole env
	// (preferences included) and are checked where the secrets come from
	// the process environment instead.
	checkClean := func(t *testing.T, r run) {
		t.Helper()
		if found := r.scan(t, secrets, true); len(found) > 0 {
			t.Fatalf("%s: secrets leaked:\n  %s\n%s", r.name, strings.Join(found, "\n  "), r.show())
		}
	}

	t.Run("processor-info shows the secrets in the description, not as inputs", func(t *testing.T) {
		// processor-info cannot resolve identifier/Name (autopkg#696);
		// -r the stub recipe puts the shim's folder in its search.
		r := w.autopkg(t, "processor-info", runOpts{
			command: []string{"processor-info", "JCDS2PackageUploader", "-r", "com.github.jcds2-uploader.processors"}})
		r.expectExit(t, 0)
		desc, inputs, ok := strings.Cut(r.stdout, "Input variables:")
		if !ok || !strings.Contains(inputs, " JSS_URL:") {
			t.Fatalf("processor-info printed no input variables:\n%s", r.show())
		}
		for _, name := range []string{"API_PASSWORD", "CLIENT_SECRET", "BEARER_TOKEN", "SMB_PASSWORD", "SMB_SHARES"} {
			if strings.Contains(inputs, " "+name+":") {
				t.Errorf("%s is declared as an input variable", name)
			}
			if !strings.Contains(desc, name) {
				t.Errorf("the description does not document %s", name)
			}
		}
	})

	t.Run("a category Jamf Pro lacks fails the recipe", func(t *testing.T) {
		// The example's own CATEGORY, Browsers, is not on the simulator.
		r := w.autopkg(t, "unknown-category", runOpts{recipe: chrome, cacheID: chromeID})
		r.expectExit(t, 70)
		f := r.failures()
		if len(f) != 1 || f[0]["recipe_id"] != chromeID {
			t.Fatalf("report failures: %v\n%s", f, r.show())
		}
		msg, _ := f[0]["message"].(string)
		if !strings.Contains(msg, stepName) || !strings.Contains(msg, "Browsers") {
			t.Fatalf("the failure should name our step and the category: %q", msg)
		}
		if _, rows := r.summaryRows(t); len(rows) != 0 {
			t.Fatalf("a failed upload has a summary row: %v", rows)
		}
		if pkgs, files := w.sim.state(t); len(pkgs) != 0 || len(files) != 0 {
			t.Fatalf("a failed run left records %v, files %v", pkgs, files)
		}
		checkClean(t, r)
	})

	var id string
	t.Run("a new upload", func(t *testing.T) {
		r := w.autopkg(t, "new", runOpts{recipe: chrome, cacheID: chromeID, keys: []string{"CATEGORY=Applications"}})
		r.expectExit(t, 0)
		out := r.step(t)
		if out["pkg_uploaded"] != true || out["pkg_metadata_updated"] != true || out["pkg_name"] != chromePkg {
			t.Fatalf("step Output: %v", out)
		}
		header, rows := r.summaryRows(t)
		wantHeader := []any{"category", "name", "pkg_name", "pkg_display_name", "pkg_path", "version", "packages_recalculated"}
		if fmt.Sprint(header) != fmt.Sprint(wantHeader) || len(rows) != 1 {
			t.Fatalf("summary header %v, rows %v", header, rows)
		}
		row := rows[0]
		for k, v := range map[string]string{"category": "Applications", "name": "GoogleChrome", "pkg_name": chromePkg,
			"pkg_display_name": "Google Chrome 120.0.6099.109", "version": "120.0.6099.109"} {
			if row[k] != v {
				t.Errorf("summary %s = %v, want %q", k, row[k], v)
			}
		}
		if !strings.Contains(r.stdout, "The following packages were uploaded to or updated in Jamf Pro:") {
			t.Errorf("no summary table printed:\n%s", r.stdout)
		}
		rec := w.sim.expectOne(t, chromePkg, first)
		var cats struct{ Results []struct{ ID, Name string } }
		w.sim.api(t, "GET", "/api/v1/categories?page-size=200", &cats)
		catID := ""
		for _, c := range cats.Results {
			if c.Name == "Applications" {
				catID = c.ID
			}
		}
		if rec.PackageName != "Google Chrome 120.0.6099.109" || rec.ID != out["pkg_id"] || catID == "" || rec.CategoryID != catID {
			t.Fatalf("record %+v (Applications is category %q), step pkg_id %v", rec, catID, out["pkg_id"])
		}
		id = rec.ID
		checkClean(t, r)
	})

	t.Run("an unchanged re-run uploads nothing", func(t *testing.T) {
		r := w.autopkg(t, "unchanged", runOpts{recipe: chrome, cacheID: chromeID, keys: []string{"CATEGORY=Applications"}})
		r.expectExit(t, 0)
		out := r.step(t)
		// Falsy outputs (pkg_uploaded False) are not in AutoPkg's Output record.
		if out["pkg_uploaded"] != nil || out["pkg_upload_status"] != "unchanged" || out["pkg_id"] != id {
			t.Fatalf("step Output: %v", out)
		}
		if _, rows := r.summaryRows(t); len(rows) != 0 {
			t.Fatalf("an unchanged package has a summary row: %v", rows)
		}
		if !strings.Contains(r.stdout, "Nothing downloaded, packaged or imported.") {
			t.Errorf("autopkg reported something:\n%s", r.stdout)
		}
		w.sim.expectOne(t, chromePkg, first)
		checkClean(t, r)
	})

	t.Run("new bytes with replace_pkg replace the file", func(t *testing.T) {
		// The example sets replace_pkg True; the stand-in parent rebuilds.
		r := w.autopkg(t, "replace", runOpts{recipe: chrome, cacheID: chromeID,
			keys: []string{"CATEGORY=Applications", "PKG_CONTENT=" + string(second)}})
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_uploaded"] != true || out["pkg_id"] != id {
			t.Fatalf("step Output: %v", out)
		}
		if _, rows := r.summaryRows(t); len(rows) != 1 || rows[0]["pkg_name"] != chromePkg {
			t.Fatalf("summary rows: %v", rows)
		}
		if rec := w.sim.expectOne(t, chromePkg, second); rec.ID != id {
			t.Fatalf("the record was replaced, not updated: %+v", rec)
		}
		checkClean(t, r)
	})

	t.Run("secrets from -k reach the binary and are not printed", func(t *testing.T) {
		r := w.autopkg(t, "secret-k", runOpts{recipe: chrome, cacheID: chromeID,
			prefs: map[string]any{"API_USERNAME": nil, "API_PASSWORD": nil, "CLIENT_ID": sv["CLIENT_ID"]},
			keys:  []string{"CATEGORY=Applications", "PKG_CONTENT=" + string(second), "CLIENT_SECRET=" + sv["CLIENT_SECRET"]}})
		r.expectExit(t, 0) // the only secret came through -k
		if out := r.step(t); out["pkg_upload_status"] != "unchanged" {
			t.Fatalf("step Output: %v", out)
		}
		checkClean(t, r)
	})

	// From the process environment, at -vvvv (AutoPkg prints its whole
	// env there): the secret is nowhere, not even in AutoPkg's own copy.
	t.Run("secrets from the process environment are nowhere at -vvvv", func(t *testing.T) {
		third := "GoogleChrome package, third build"
		r := w.autopkg(t, "secret-env", runOpts{recipe: chrome, cacheID: chromeID, verbosity: "-vvvv",
			prefs: map[string]any{"API_USERNAME": nil, "API_PASSWORD": nil, "CLIENT_ID": sv["CLIENT_ID"]},
			keys:  []string{"CATEGORY=Applications", "PKG_CONTENT=" + third},
			env:   []string{"CLIENT_SECRET=" + sv["CLIENT_SECRET"]}})
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_uploaded"] != true {
			t.Fatalf("step Output: %v", out) // a whole upload, S3 credentials and all
		}
		if found := r.scan(t, secrets, false); len(found) > 0 {
			t.Fatalf("secrets leaked:\n  %s\n%s", strings.Join(found, "\n  "), r.show())
		}
		w.sim.expectOne(t, chromePkg, []byte(third))

		tok := w.sim.token(t)
		r = w.autopkg(t, "secret-token", runOpts{recipe: chrome, cacheID: chromeID, verbosity: "-vvvv",
			prefs: map[string]any{"API_USERNAME": nil, "API_PASSWORD": nil},
			keys:  []string{"CATEGORY=Applications", "PKG_CONTENT=" + string(second)},
			env:   []string{"BEARER_TOKEN=" + tok}})
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_uploaded"] != true {
			t.Fatalf("step Output: %v", out)
		}
		if found := r.scan(t, append(secrets, tok), false); len(found) > 0 {
			t.Fatalf("secrets leaked:\n  %s\n%s", strings.Join(found, "\n  "), r.show())
		}
		w.sim.expectOne(t, chromePkg, second)
	})

	// A copy of the repository with the release binary beside the shim
	// (bin/, for sites that deliver it themselves), one byte added.
	tampered := filepath.Join(w.root, "tampered")
	copyTree(t, filepath.Join(w.clone, "recipes"), filepath.Join(tampered, "recipes"))
	bad := filepath.Join(tampered, "recipes", "bin", binName(w.asset(t).Platform))
	copyFile(t, distPath(t, w.dist, w.asset(t).File), bad)
	f, err := os.OpenFile(bad, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	os.Chmod(bad, 0o755)
	badSum := sha256.Sum256(mustRead(t, bad))

	t.Run("a tampered bundled binary is refused", func(t *testing.T) {
		r := w.autopkg(t, "tampered", runOpts{recipe: filepath.Join(tampered, "recipes", "GoogleChrome.jamf.recipe"),
			cacheID: chromeID, searchDir: tampered, keys: []string{"CATEGORY=Applications"}})
		r.expectExit(t, 70)
		if f := r.failures(); len(f) != 1 || !strings.Contains(fmt.Sprint(f[0]["message"]), "does not trust") ||
			!strings.Contains(fmt.Sprint(f[0]["message"]), bad) {
			t.Fatalf("failures: %v", f)
		}
	})

	t.Run("JCDS2_UPLOADER_PATH is pinned too, unless JCDS2_UPLOADER_SHA256 names its hash", func(t *testing.T) {
		r := w.autopkg(t, "explicit-unpinned", runOpts{recipe: chrome, cacheID: chromeID,
			keys: []string{"CATEGORY=Applications"}, env: []string{"JCDS2_UPLOADER_PATH=" + bad}})
		r.expectExit(t, 70)
		if f := r.failures(); len(f) != 1 || !strings.Contains(fmt.Sprint(f[0]["message"]), "does not trust") {
			t.Fatalf("failures: %v", f)
		}
		r = w.autopkg(t, "explicit-own-pin", runOpts{recipe: chrome, cacheID: chromeID,
			keys:  []string{"CATEGORY=Applications", "PKG_CONTENT=" + string(second)},
			prefs: map[string]any{"JCDS2_UPLOADER_PATH": bad, "JCDS2_UPLOADER_SHA256": hex.EncodeToString(badSum[:])}})
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_upload_status"] != "unchanged" {
			t.Fatalf("step Output: %v", out)
		}
	})

	t.Run("trust info covers the shim, which pins the binary", func(t *testing.T) {
		// make-override records the hash of the .py only; the shim in turn
		// refuses a binary it does not pin (the test above).
		trust := runOpts{searchDir: tampered,
			prefs: map[string]any{"RECIPE_OVERRIDE_DIRS": []string{filepath.Join(w.root, "trust-overrides")}}}
		trust.command = []string{"make-override", "GoogleChrome.jamf"}
		w.autopkg(t, "make-override", trust).expectExit(t, 0)
		trust.command = []string{"verify-trust-info", "-v", "local.jamf.GoogleChrome"}
		if r := w.autopkg(t, "trust-ok", trust); r.code != 0 || !strings.Contains(r.stdout, "local.jamf.GoogleChrome: OK") {
			t.Fatalf("verify-trust-info: exit %d\n%s", r.code, r.show())
		}
		shim := filepath.Join(tampered, "recipes", processor.Name+".py")
		f, err := os.OpenFile(shim, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("# edited\n")
		f.Close()
		r := w.autopkg(t, "trust-failed", trust)
		if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "JCDS2PackageUploader contents differ from expected") {
			t.Fatalf("verify-trust-info after editing the shim: exit %d\n%s", r.code, r.show())
		}
	})

	downloadFailures(t, w, chrome, second)

	t.Run("the override of the YAML example", func(t *testing.T) {
		// local.jamf.Firefox (from RECIPE_OVERRIDE_DIRS) -> Firefox.jamf
		// (YAML, with StopProcessingIf) -> the stand-in Firefox_EN.
		r := w.autopkg(t, "override", runOpts{recipe: "local.jamf.Firefox", keys: []string{"CATEGORY=Applications"}})
		if out := r.step(t); out["pkg_uploaded"] != true || out["pkg_name"] != "Firefox-121.0.pkg" {
			t.Fatalf("step Output: %v\n%s", out, r.show())
		}
		if _, rows := r.summaryRows(t); len(rows) != 1 || rows[0]["name"] != "Firefox" {
			t.Fatalf("summary rows: %v", rows)
		}
		switch r.code {
		case 0:
		case 70:
			// StopProcessingIf evaluates its predicate with macOS's
			// Foundation.NSPredicate; AutoPkg on Linux has none.
			if f := r.failures(); len(f) != 1 || !strings.Contains(fmt.Sprint(f[0]["message"]), "StopProcessingIf") {
				t.Fatalf("failures: %v\n%s", f, r.show())
			}
			t.Log("StopProcessingIf failed the recipe after our step, as it does on Linux (no NSPredicate)")
		default:
			r.expectExit(t, 0)
		}
		w.sim.expectOne(t, "Firefox-121.0.pkg", []byte("Firefox package, first build"))
		checkClean(t, r)
	})
}
