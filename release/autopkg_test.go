package main

// The real AutoPkg, run the way a team runs it in a Linux pipeline: the
// shared-processor folder exactly as `go run ./release` writes it (the
// build TestMain made), the example recipes from recipes/Examples with
// Linux stand-ins for their parents (testdata/shimtest/parents), a
// preferences plist and a cache in temp dirs, and `jcds2-uploader sim`
// as Jamf Pro. Every run is `autopkg run` as a subprocess: its exit code,
// its output, its --report-plist and its receipt are the contract.
//
// It lives in release/ because it tests the release layout: it runs the
// bytes and the shim the release builder makes, with no layout code of
// its own to drift from the builder's.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
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

// api calls the Jamf Pro API of the simulator with a fresh token.
func (s *simulator) api(t *testing.T, method, path string, into any) {
	t.Helper()
	tok := s.token(t)
	req, _ := http.NewRequest(method, s.vars["JSS_URL"]+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// token mints a bearer token with the simulator's user and password.
func (s *simulator) token(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.vars["JSS_URL"]+"/api/v1/auth/token", nil)
	req.SetBasicAuth(s.vars["API_USERNAME"], s.vars["API_PASSWORD"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("minting a token: %s %v", resp.Status, err)
	}
	return tok.Token
}

type simPackage struct{ ID, PackageName, FileName, CategoryID string }
type simFile struct{ FileName, MD5 string }

// state is what Jamf Pro holds: package records and JCDS files.
func (s *simulator) state(t *testing.T) ([]simPackage, []simFile) {
	t.Helper()
	var pkgs struct{ Results []simPackage }
	s.api(t, "GET", "/api/v1/packages?page-size=200", &pkgs)
	var files []simFile
	s.api(t, "GET", "/api/v1/jcds/files", &files)
	return pkgs.Results, files
}

// expectOne checks Jamf Pro holds exactly one record and one file for
// name, the file with these bytes, and returns the record.
func (s *simulator) expectOne(t *testing.T, name string, content []byte) simPackage {
	t.Helper()
	pkgs, files := s.state(t)
	var rec []simPackage
	for _, p := range pkgs {
		if strings.HasPrefix(p.FileName, strings.TrimSuffix(name, ".pkg")) {
			rec = append(rec, p)
		}
	}
	var fl []simFile
	for _, f := range files {
		if strings.HasPrefix(f.FileName, strings.TrimSuffix(name, ".pkg")) {
			fl = append(fl, f)
		}
	}
	want := md5.Sum(content)
	if len(rec) != 1 || len(fl) != 1 || rec[0].FileName != name || fl[0].FileName != name || fl[0].MD5 != hex.EncodeToString(want[:]) {
		t.Fatalf("Jamf Pro should hold one record and one file %s with md5 %x; records %+v, files %+v", name, want, rec, fl)
	}
	return rec[0]
}

// world is one test's AutoPkg setup: the recipes tree, the simulator and
// the preferences every run starts from.
type world struct {
	ap    autoPkg
	root  string
	sim   *simulator
	prefs map[string]any
	runs  int
}

// layout writes root/recipes (JCDS2Processors as the release makes it,
// Examples without the override), root/parents (the Linux stand-ins) and
// root/overrides (the example override).
func layout(t *testing.T, root string) {
	t.Helper()
	procs := filepath.Join(root, "recipes", "JCDS2Processors")
	copyTree(t, built, procs)
	copyFile(t, "../recipes/JCDS2Processors/JCDS2Processors.recipe.yaml", filepath.Join(procs, "JCDS2Processors.recipe.yaml"))
	copyTree(t, "../recipes/Examples", filepath.Join(root, "recipes", "Examples"))
	copyTree(t, "../testdata/shimtest/parents", filepath.Join(root, "parents"))
	os.MkdirAll(filepath.Join(root, "overrides"), 0o755)
	if err := os.Rename(filepath.Join(root, "recipes", "Examples", "local.jamf.Firefox.recipe.yaml"),
		filepath.Join(root, "overrides", "local.jamf.Firefox.recipe.yaml")); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(from)
	os.MkdirAll(filepath.Dir(to), 0o755)
	if err := os.WriteFile(to, data, st.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		copyFile(t, p, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// run is one `autopkg run` and what it left behind.
type run struct {
	name           string
	code           int
	stdout, stderr string
	dir            string         // the run's prefs, cache, home and report
	report         map[string]any // --report-plist
	receipt        []any          // the recipe's receipt
}

type runOpts struct {
	recipe    string
	verbosity string         // -vv unless set
	keys      []string       // -k KEY=VALUE
	prefs     map[string]any // preference changes; nil deletes
	env       []string       // extra process environment
	command   []string       // another autopkg verb and its arguments instead of run
	searchDir string         // replaces root/recipes in RECIPE_SEARCH_DIRS
	cacheID   string         // recipe identifier naming the cache dir (default: recipe)
}

// autopkg runs `autopkg run` in a fresh dir: its own prefs plist, cache
// and HOME, so nothing touches ~/Library, ~/.config or real preferences.
func (w *world) autopkg(t *testing.T, name string, o runOpts) run {
	t.Helper()
	w.runs++
	dir := filepath.Join(w.root, "runs", fmt.Sprintf("%02d-%s", w.runs, name))
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o755)
	search := filepath.Join(w.root, "recipes")
	if o.searchDir != "" {
		search = o.searchDir
	}
	prefs := map[string]any{
		"CACHE_DIR":            filepath.Join(dir, "cache"),
		"RECIPE_SEARCH_DIRS":   []string{search, filepath.Join(w.root, "parents")},
		"RECIPE_OVERRIDE_DIRS": []string{filepath.Join(w.root, "overrides")},
		"RECIPE_REPO_DIR":      filepath.Join(dir, "repos"),
		"RECIPE_REPOS":         map[string]any{},
	}
	for k, v := range w.prefs {
		prefs[k] = v
	}
	for k, v := range o.prefs {
		if v == nil {
			delete(prefs, k)
		} else {
			prefs[k] = v
		}
	}
	data, err := plist.MarshalIndent(prefs, plist.XMLFormat, "\t")
	if err != nil {
		t.Fatal(err)
	}
	prefsPath := filepath.Join(dir, "prefs.plist")
	if err := os.WriteFile(prefsPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	verbosity := o.verbosity
	if verbosity == "" {
		verbosity = "-vv"
	}
	reportPath := filepath.Join(dir, "report.plist")
	args := []string{"-B", w.ap.script, "run", verbosity, "-q", "--prefs", prefsPath, "--report-plist", reportPath, o.recipe}
	for _, kv := range o.keys {
		args = append(args, "-k", kv)
	}
	if o.command != nil {
		args = append(append([]string{"-B", w.ap.script}, o.command...), "--prefs", prefsPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.ap.python, args...)
	cmd.Dir = dir
	// A clean environment: nothing of the caller's (no AUTOPKG_*, no
	// CLIENT_SECRET) leaks in; HOME and XDG_CONFIG_HOME are the run's own.
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8", "AWS_ENDPOINT_URL_S3=" + w.sim.vars["AWS_ENDPOINT_URL_S3"],
	}, o.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := run{name: name, stdout: stdout.String(), stderr: stderr.String(), dir: dir}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("autopkg run: %v", err)
	}
	t.Logf("autopkg %s: exit %d in %s", strings.Join(args[2:], " "), r.code, time.Since(start).Round(time.Millisecond))
	if strings.Contains(r.stderr, "Traceback") || strings.Contains(r.stdout, "Traceback") {
		t.Fatalf("autopkg crashed:\n%s\n%s", r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(reportPath); err == nil {
		if _, err := plist.Unmarshal(data, &r.report); err != nil {
			t.Fatalf("report plist: %v", err)
		}
	}
	cacheID := o.cacheID
	if cacheID == "" {
		cacheID = o.recipe
	}
	receipts, _ := filepath.Glob(filepath.Join(dir, "cache", cacheID, "receipts", "*.plist"))
	if len(receipts) == 1 {
		data, _ := os.ReadFile(receipts[0])
		if _, err := plist.Unmarshal(data, &r.receipt); err != nil {
			t.Fatalf("receipt %s: %v", receipts[0], err)
		}
	}
	return r
}

func (r run) show() string {
	return fmt.Sprintf("--- stdout\n%s--- stderr\n%s", r.stdout, r.stderr)
}

func (r run) expectExit(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: autopkg exited %d, want %d\n%s", r.name, r.code, code, r.show())
	}
}

// step is our step's Output record in the receipt.
func (r run) step(t *testing.T) map[string]any {
	t.Helper()
	for _, item := range r.receipt {
		m, _ := item.(map[string]any)
		if m["Processor"] == stepName {
			out, _ := m["Output"].(map[string]any)
			return out
		}
	}
	t.Fatalf("%s: the receipt has no %s step: %v\n%s", r.name, stepName, r.receipt, r.show())
	return nil
}

// summaryRows are the jamfpackageuploader_summary_result rows of the report.
func (r run) summaryRows(t *testing.T) (header []any, rows []map[string]any) {
	t.Helper()
	sr, _ := r.report["summary_results"].(map[string]any)
	s, _ := sr["jamfpackageuploader_summary_result"].(map[string]any)
	if s == nil {
		return nil, nil
	}
	header, _ = s["header"].([]any)
	list, _ := s["data_rows"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		rows = append(rows, m)
	}
	return header, rows
}

func (r run) failures() []map[string]any {
	list, _ := r.report["failures"].([]any)
	var out []map[string]any
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// encodings are the forms a secret could leak in: as is, base64 (HTTP
// basic auth, tokens), URL-encoded (form bodies, query strings).
func encodings(secret string) []string {
	var out []string
	seen := map[string]bool{}
	for _, form := range []string{
		secret,
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
		base64.URLEncoding.EncodeToString([]byte(secret)),
		url.QueryEscape(secret),
		url.PathEscape(secret),
	} {
		if !seen[form] {
			seen[form] = true
			out = append(out, form)
		}
	}
	return out
}

// leaks reports where any of the secrets (in any encoding) or anything
// shaped like a Jamf Pro bearer token (a JWT: base64 of {"alg":) occurs.
func leaks(where string, data []byte, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		for _, form := range encodings(s) {
			if bytes.Contains(data, []byte(form)) {
				found = append(found, fmt.Sprintf("%s holds %q", where, form))
			}
		}
	}
	if bytes.Contains(data, []byte("eyJhbGciOi")) {
		found = append(found, where+" holds a bearer token (eyJhbGciOi...)")
	}
	return found
}

// scan searches what a run printed and everything it left on disk but
// its prefs plist. With skipRecipeInput it leaves out what AutoPkg fills
// with its whole env itself: the receipt's "Recipe input" item and
// autopkg_results.plist.
func (r run) scan(t *testing.T, secrets []string, skipRecipeInput bool) []string {
	t.Helper()
	found := leaks("stdout", []byte(r.stdout), secrets)
	found = append(found, leaks("stderr", []byte(r.stderr), secrets)...)
	filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "prefs.plist" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r.dir, p)
		if skipRecipeInput {
			switch {
			case filepath.Base(p) == "autopkg_results.plist":
				return nil // the receipts of the run, Recipe input included
			case strings.Contains(rel, string(filepath.Separator)+"receipts"+string(filepath.Separator)):
				var items []any
				if _, err := plist.Unmarshal(data, &items); err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				var kept []any
				for _, it := range items {
					if m, ok := it.(map[string]any); !ok || m["Recipe input"] == nil {
						kept = append(kept, it)
					}
				}
				data, _ = plist.Marshal(kept, plist.XMLFormat)
			}
		}
		found = append(found, leaks(rel, data, secrets)...)
		return nil
	})
	return found
}

func TestAutoPkg(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the real-AutoPkg test runs about 20 autopkg processes")
	}
	ap := findAutoPkg(t)
	w := &world{ap: ap, root: t.TempDir()}
	layout(t, w.root)
	procs := filepath.Join(w.root, "recipes", "JCDS2Processors")
	w.sim = startSim(t, hostBinary(t, procs))
	sv := w.sim.vars
	// What a Mac admin has in com.github.autopkg: URL, user, password.
	w.prefs = map[string]any{"JSS_URL": sv["JSS_URL"], "API_USERNAME": sv["API_USERNAME"], "API_PASSWORD": sv["API_PASSWORD"]}
	// The user:password pair too: base64 of it is an HTTP basic auth header.
	secrets := []string{sv["API_PASSWORD"], sv["CLIENT_SECRET"], sv["API_USERNAME"] + ":" + sv["API_PASSWORD"]}
	chrome := filepath.Join(w.root, "recipes", "Examples", "GoogleChrome.jamf.recipe")
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

	// A copy of the layout with one byte added to the Linux binary.
	tampered := filepath.Join(w.root, "tampered")
	copyTree(t, filepath.Join(w.root, "recipes"), filepath.Join(tampered, "recipes"))
	bad := hostBinary(t, filepath.Join(tampered, "recipes", "JCDS2Processors"))
	f, err := os.OpenFile(bad, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	badSum := sha256.Sum256(mustRead(t, bad))

	t.Run("a tampered bundled binary is refused", func(t *testing.T) {
		r := w.autopkg(t, "tampered", runOpts{recipe: filepath.Join(tampered, "recipes", "Examples", "GoogleChrome.jamf.recipe"),
			cacheID: chromeID, searchDir: filepath.Join(tampered, "recipes"), keys: []string{"CATEGORY=Applications"}})
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
		trust := runOpts{searchDir: filepath.Join(tampered, "recipes"),
			prefs: map[string]any{"RECIPE_OVERRIDE_DIRS": []string{filepath.Join(w.root, "trust-overrides")}}}
		trust.command = []string{"make-override", "GoogleChrome.jamf"}
		w.autopkg(t, "make-override", trust).expectExit(t, 0)
		trust.command = []string{"verify-trust-info", "-v", "local.jamf.GoogleChrome"}
		if r := w.autopkg(t, "trust-ok", trust); r.code != 0 || !strings.Contains(r.stdout, "local.jamf.GoogleChrome: OK") {
			t.Fatalf("verify-trust-info: exit %d\n%s", r.code, r.show())
		}
		shim := filepath.Join(tampered, "recipes", "JCDS2Processors", shimFile)
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

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
