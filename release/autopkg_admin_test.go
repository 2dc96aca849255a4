package main

// What a new Mac admin does with a release, through the real AutoPkg:
// `autopkg repo-add` of this repository (a local git clone path standing
// in for https://github.com/jcds2-uploader/jcds2-uploader), make-override
// of an example, verify-trust-info, run; the shim downloads the release
// binary from the release host on the first run. And how the download
// fails: other bytes than the release, no network.

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

const overrideID = "local.jamf.GoogleChrome"

// newMacAdmin runs the first steps on a Jamf Pro of their own and leaves
// w.clone (the added repository) and w.binCache (the downloaded binary).
func newMacAdmin(t *testing.T, w *world) {
	sim := startSim(t, hostBin)
	asset := w.asset(t)
	cache := filepath.Join(w.root, "admin-cache") // one Mac: one CACHE_DIR for every run
	binDir := filepath.Join(cache, "com.github.jcds2-uploader.processors")
	first := []byte("GoogleChrome package, first build")

	t.Run("repo-add of this repository finds the processor", func(t *testing.T) {
		r := w.autopkg(t, "repo-add", runOpts{command: []string{"repo-add", w.repo}})
		r.expectExit(t, 0)
		var prefs struct {
			Dirs  []string       `plist:"RECIPE_SEARCH_DIRS"`
			Repos map[string]any `plist:"RECIPE_REPOS"`
		}
		if _, err := plist.Unmarshal(mustRead(t, filepath.Join(r.dir, "prefs.plist")), &prefs); err != nil {
			t.Fatal(err)
		}
		if len(prefs.Dirs) != 2 || !strings.HasPrefix(prefs.Dirs[1], filepath.Join(w.root, "repos")+string(filepath.Separator)) {
			t.Fatalf("RECIPE_SEARCH_DIRS after repo-add: %v\n%s", prefs.Dirs, r.show())
		}
		w.clone = prefs.Dirs[1]
		w.prefs["RECIPE_SEARCH_DIRS"], w.prefs["RECIPE_REPOS"] = prefs.Dirs, prefs.Repos
		if _, err := os.Stat(filepath.Join(w.clone, ".git")); err != nil {
			t.Fatalf("repo-add made no git clone: %v", err)
		}
		// The processor resolves through the stub recipe one folder down.
		r = w.autopkg(t, "processor-info", runOpts{command: []string{"processor-info", processor.Name, "-r", "com.github.jcds2-uploader.processors"}})
		r.expectExit(t, 0)
		if !strings.Contains(r.stdout, "Input variables:") {
			t.Fatalf("processor-info:\n%s", r.show())
		}
	})
	if w.clone == "" {
		return
	}

	t.Run("make-override and verify-trust-info", func(t *testing.T) {
		w.autopkg(t, "make-override", runOpts{command: []string{"make-override", "GoogleChrome.jamf"}}).expectExit(t, 0)
		r := w.autopkg(t, "verify-trust-info", runOpts{command: []string{"verify-trust-info", "-v", overrideID}})
		if r.code != 0 || !strings.Contains(r.stdout, overrideID+": OK") {
			t.Fatalf("verify-trust-info: exit %d\n%s", r.code, r.show())
		}
		// The trust info holds the shim of the clone (which pins the binary).
		var override struct {
			Trust struct {
				Processors map[string]struct {
					Path, SHA256 string `plist:"sha256_hash"`
				} `plist:"non_core_processors"`
			} `plist:"ParentRecipeTrustInfo"`
		}
		if _, err := plist.Unmarshal(mustRead(t, filepath.Join(w.root, "overrides", "GoogleChrome.jamf.recipe")), &override); err != nil {
			t.Fatal(err)
		}
		shim := filepath.Join(w.clone, recipesDir, processor.Name+".py")
		want, _ := sha256File(shim)
		if got := override.Trust.Processors[stepName]; got.SHA256 != want {
			t.Fatalf("the override trusts %+v, want the clone's shim %s (%s)", override.Trust.Processors, shim, want)
		}
	})

	t.Run("the first run downloads the pinned binary, the next ones reuse it", func(t *testing.T) {
		o := runOpts{recipe: overrideID, cacheDir: cache, sim: sim, keys: []string{"CATEGORY=Applications"}}
		r := w.autopkg(t, "first-run", o)
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_uploaded"] != true || out["pkg_name"] != chromePkg {
			t.Fatalf("step Output: %v\n%s", out, r.show())
		}
		sim.expectOne(t, chromePkg, first)
		if n := w.host.requests(asset.File); n != 1 {
			t.Fatalf("the release host served %s %d times, want 1", asset.File, n)
		}
		got := filepath.Join(binDir, w.pins.Version, asset.File)
		info, err := os.Stat(got)
		if err != nil || info.Mode().Perm() != 0o755 {
			t.Fatalf("the downloaded binary: %v %v", info, err)
		}
		if sum, _ := sha256File(got); sum != asset.SHA256 {
			t.Fatalf("%s has SHA-256 %s, pinned %s", got, sum, asset.SHA256)
		}
		if !strings.Contains(r.stdout, "downloaded "+w.host.URL()+"/download/"+asset.File) {
			t.Errorf("the run did not say it downloaded the binary:\n%s", r.stdout)
		}
		r = w.autopkg(t, "second-run", o)
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_upload_status"] != "unchanged" {
			t.Fatalf("step Output: %v", out)
		}
		if n := w.host.requests(asset.File); n != 1 {
			t.Fatalf("the second run downloaded again (%d requests)", n)
		}
		w.binCache = binDir
	})
}

// downloadFailures: what the shim does when the release host serves other
// bytes, or cannot be reached; the air-gapped way round.
func downloadFailures(t *testing.T, w *world, chrome string, content []byte) {
	asset := w.asset(t)
	cached := func(r run) []string {
		entries, _ := os.ReadDir(filepath.Join(r.dir, "cache", "com.github.jcds2-uploader.processors", w.pins.Version))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	base := runOpts{recipe: chrome, cacheID: chromeID, noSeed: true,
		keys: []string{"CATEGORY=Applications", "PKG_CONTENT=" + string(content)}}

	t.Run("a tampered download is refused and nothing is run", func(t *testing.T) {
		marker := filepath.Join(w.root, "the-tampered-binary-ran")
		w.host.tamper(asset.File, []byte("#!/bin/sh\ntouch "+marker+"\n"))
		defer w.host.tamper(asset.File, nil)
		pkgs, files := w.sim.state(t)
		before := w.host.requests(asset.File)
		r := w.autopkg(t, "tampered-download", base)
		r.expectExit(t, 70)
		f := r.failures()
		if len(f) != 1 || !strings.Contains(f[0]["message"].(string), "refused the download of "+w.host.URL()) ||
			!strings.Contains(f[0]["message"].(string), "nothing was run") {
			t.Fatalf("failures: %v\n%s", f, r.show())
		}
		if w.host.requests(asset.File) != before+1 {
			t.Fatal("the shim did not try the release host")
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatal("the tampered binary was run")
		}
		if left := cached(r); len(left) != 0 {
			t.Fatalf("the refused download left %v in the cache", left)
		}
		if p2, f2 := w.sim.state(t); !reflect.DeepEqual(p2, pkgs) || !reflect.DeepEqual(f2, files) {
			t.Fatalf("Jamf Pro changed: %v %v -> %v %v", pkgs, files, p2, f2)
		}
	})

	// No route to the release host: a proxy that refuses connections.
	offline := []string{"https_proxy=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9"}
	t.Run("offline: a clear error", func(t *testing.T) {
		o := base
		o.env = offline
		r := w.autopkg(t, "offline", o)
		r.expectExit(t, 70)
		f := r.failures()
		msg, _ := f[0]["message"].(string)
		for _, s := range []string{"could not download " + w.host.URL() + "/download/" + asset.File, "offline", "JCDS2_UPLOADER_PATH", asset.SHA256} {
			if !strings.Contains(msg, s) {
				t.Errorf("the failure does not say %q: %s", s, msg)
			}
		}
		if left := cached(r); len(left) != 0 {
			t.Fatalf("the failed download left %v in the cache", left)
		}
	})

	t.Run("air-gapped: JCDS2_UPLOADER_PATH names the release binary, no network", func(t *testing.T) {
		local := filepath.Join(w.root, "airgap", "jcds2-uploader")
		copyFile(t, distPath(t, w.dist, asset.File), local)
		os.Chmod(local, 0o755)
		before := w.host.requests(asset.File)
		o := base
		o.env = append(offline, "JCDS2_UPLOADER_PATH="+local)
		r := w.autopkg(t, "air-gapped", o)
		r.expectExit(t, 0)
		if out := r.step(t); out["pkg_upload_status"] != "unchanged" {
			t.Fatalf("step Output: %v", out)
		}
		if w.host.requests(asset.File) != before {
			t.Fatal("the shim downloaded despite JCDS2_UPLOADER_PATH")
		}
	})
}
