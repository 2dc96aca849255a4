package main

// The setup of the real-AutoPkg test: the world its runs share, one
// `autopkg` subprocess per run with its own prefs plist and HOME, and
// what a run left (exit code, output, report, receipt, secrets).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

// world is one test's AutoPkg setup: a release on a loopback HTTPS host,
// this repository as that release leaves it (a git repo AutoPkg can
// add), the simulator, and the preferences every run starts from.
type world struct {
	ap    autoPkg
	root  string
	sim   *simulator
	prefs map[string]any
	runs  int

	host     *releaseHost
	dist     string // the GoReleaser snapshot
	pins     *Pins
	repo     string // this repository with the pin commit on top, for `autopkg repo-add`
	clone    string // where repo-add cloned it (set by the new-admin flow)
	binCache string // a cache folder holding the downloaded binary, seeded into runs
}

// newWorld makes the release (GoReleaser snapshot of this checkout),
// serves its bare binaries from the release host, and writes root/repo:
// this checkout with the commit the release workflow proposes after
// publishing (`go run ./release pin` pointing at the host), root/parents
// (the Linux stand-ins for the examples' parents) and root/overrides (the
// example override).
func newWorld(t *testing.T, ap autoPkg) *world {
	t.Helper()
	w := &world{ap: ap, root: t.TempDir(), dist: sharedDist(t), host: startReleaseHost(t)}
	pins, err := pinDist(w.dist, w.host.URL()+"/download/")
	if err != nil {
		t.Fatal(err)
	}
	w.pins = pins
	for _, a := range pins.Assets {
		w.host.serve(a.File, distPath(t, w.dist, a.File))
	}
	w.repo = filepath.Join(w.root, "src", "jcds2-uploader")
	commitCopy(t, w.repo)
	if err := pins.save(filepath.Join(w.repo, pinsFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := writeShims(filepath.Join(w.repo, recipesDir), pins); err != nil {
		t.Fatal(err)
	}
	gitCommit(t, w.repo, "Pin release "+pins.Version)
	copyTree(t, "../testdata/shimtest/parents", filepath.Join(w.root, "parents"))
	copyFile(t, "../docs/examples/local.jamf.Firefox.recipe.yaml", filepath.Join(w.root, "overrides", "local.jamf.Firefox.recipe.yaml"))
	w.sim = startSim(t, hostBin)
	// What a Mac admin has in com.github.autopkg: URL, user, password, and
	// the parents' repo (here the stand-ins) already added.
	w.prefs = simPrefs(w.sim)
	w.prefs["RECIPE_SEARCH_DIRS"] = []string{filepath.Join(w.root, "parents")}
	return w
}

// simPrefs are the preferences pointing AutoPkg at a simulator.
func simPrefs(s *simulator) map[string]any {
	return map[string]any{"JSS_URL": s.vars["JSS_URL"], "API_USERNAME": s.vars["API_USERNAME"], "API_PASSWORD": s.vars["API_PASSWORD"]}
}

// asset is the release's bare binary for this machine.
func (w *world) asset(t *testing.T) Asset {
	t.Helper()
	for _, a := range w.pins.Assets {
		if a.Platform == hostTarget() || (a.Platform == "darwin" && runtime.GOOS == "darwin") {
			return a
		}
	}
	t.Skipf("the release has no binary for %s", hostTarget())
	return Asset{}
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

// linkTree hard-links the files of from into to (a cache seeded with a
// binary an earlier run downloaded, without copying 30 MB each time).
func linkTree(t *testing.T, from, to string) {
	t.Helper()
	placeTree(t, from, to, os.Link)
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	placeTree(t, from, to, func(src, dst string) error {
		copyFile(t, src, dst)
		return nil
	})
}

// placeTree recreates from's directories under to and hands each file to
// place with its source and destination paths.
func placeTree(t *testing.T, from, to string, place func(src, dst string) error) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		return place(p, filepath.Join(to, rel))
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
	dir            string          // the run's prefs, cache, home and report
	report         map[string]any  // --report-plist
	receipt        []any           // the recipe's receipt
	release        map[string]bool // SHA-256 of the pinned release binaries
}

type runOpts struct {
	recipe    string
	verbosity string         // -vv unless set
	keys      []string       // -k KEY=VALUE
	prefs     map[string]any // preference changes; nil deletes
	env       []string       // extra process environment
	command   []string       // another autopkg verb and its arguments instead of run
	searchDir string         // RECIPE_SEARCH_DIRS is this and the parents
	cacheID   string         // recipe identifier naming the cache dir (default: recipe)
	cacheDir  string         // CACHE_DIR (default: the run's own, seeded with w.binCache)
	noSeed    bool           // an empty cache even when w.binCache is set
	sim       *simulator     // Jamf Pro (default w.sim)
}

// autopkg runs `autopkg run` in a fresh dir: its own prefs plist, cache
// and HOME, so nothing touches ~/Library, ~/.config or real preferences.
func (w *world) autopkg(t *testing.T, name string, o runOpts) run {
	t.Helper()
	w.runs++
	dir := filepath.Join(w.root, "runs", fmt.Sprintf("%02d-%s", w.runs, name))
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o755)
	cache := o.cacheDir
	if cache == "" {
		cache = filepath.Join(dir, "cache")
		if w.binCache != "" && !o.noSeed {
			linkTree(t, w.binCache, filepath.Join(cache, filepath.Base(w.binCache)))
		}
	}
	prefs := map[string]any{
		"CACHE_DIR":            cache,
		"RECIPE_OVERRIDE_DIRS": []string{filepath.Join(w.root, "overrides")},
		"RECIPE_REPO_DIR":      filepath.Join(w.root, "repos"),
		"RECIPE_REPOS":         map[string]any{},
	}
	for k, v := range w.prefs {
		prefs[k] = v
	}
	sim := w.sim
	if o.sim != nil {
		sim = o.sim
		for k, v := range simPrefs(sim) {
			prefs[k] = v
		}
	}
	if o.searchDir != "" {
		prefs["RECIPE_SEARCH_DIRS"] = []string{o.searchDir, filepath.Join(w.root, "parents")}
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
		"PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8", "AWS_ENDPOINT_URL_S3=" + sim.vars["AWS_ENDPOINT_URL_S3"],
		// The release host's CA, as a company's TLS inspection CA would be.
		"SSL_CERT_FILE=" + w.host.caFile,
	}, o.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := run{name: name, stdout: stdout.String(), stderr: stderr.String(), dir: dir, release: map[string]bool{}}
	for _, a := range w.pins.Assets {
		r.release[a.SHA256] = true
	}
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
	// The newest receipt (a shared cache keeps earlier runs' too).
	receipts, _ := filepath.Glob(filepath.Join(cache, cacheID, "receipts", "*.plist"))
	sort.Strings(receipts)
	if n := len(receipts); n > 0 {
		data, _ := os.ReadFile(receipts[n-1])
		if _, err := plist.Unmarshal(data, &r.receipt); err != nil {
			t.Fatalf("receipt %s: %v", receipts[n-1], err)
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
		// The release binary in AutoPkg's cache is the bytes the shim pins,
		// not something the run wrote: it holds the built-in simulator's
		// demo credentials (these tests' Jamf Pro) and token prefix.
		if sum := sha256.Sum256(data); r.release[hex.EncodeToString(sum[:])] {
			return nil
		}
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
