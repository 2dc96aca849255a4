package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostBin is this checkout built for this machine (go build), for the
// simulator and the shim's unit tests; the AutoPkg test runs the
// GoReleaser snapshot's binaries instead.
var hostBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jcds2-release-")
	if err != nil {
		panic(err)
	}
	distRoot = filepath.Join(dir, "dist")
	hostBin = filepath.Join(dir, "jcds2-uploader")
	cmd := exec.Command("go", "build", "-trimpath", "-o", hostBin, "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func hostTarget() string { return runtime.GOOS + "/" + runtime.GOARCH }

// The committed shims are what `go run ./release` writes from
// release/pins.json; an unreleased checkout's pins follow the code's
// manifests.
func TestCommittedShimIsCurrent(t *testing.T) {
	pins, err := loadPins("../" + pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	if pins.Version == "" {
		got, _ := json.Marshal(pins.Manifests)
		want, _ := json.Marshal(currentManifests())
		if !bytes.Equal(got, want) {
			t.Fatal("release/pins.json holds another manifest than the code's: run `go run ./release` and commit")
		}
	}
	for _, s := range processors {
		want, err := shimSource(s, pins)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, filepath.Join("..", recipesDir, s.Class+".py")); !bytes.Equal(got, want) {
			t.Errorf("recipes/%s.py is stale: run `go run ./release` and commit it", s.Class)
		}
	}
}

// AutoPkg finds a shared processor's stub recipe at most one folder
// below a search dir (find_recipe_by_identifier: *.recipe*, */*.recipe*)
// and its Name.py beside it; `autopkg repo-add` makes the repository
// root a search dir. What AutoPkg reads from git is text only.
func TestProcessorRepoLayout(t *testing.T) {
	stub := mustRead(t, "../recipes/JCDS2Processors.recipe.yaml")
	if !bytes.Contains(stub, []byte("\nIdentifier: com.github.jcds2-uploader.processors\n")) {
		t.Fatalf("the stub recipe has another identifier:\n%s", stub)
	}
	for _, s := range processors {
		if _, err := os.Stat(filepath.Join("..", recipesDir, s.Class+".py")); err != nil {
			t.Errorf("no shim beside the stub recipe: %v", err)
		}
	}
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z", "--", recipesDir).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("..", rel))
		if err != nil {
			continue // deleted in the working tree
		}
		if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
			t.Errorf("%s is not text: the processor repo holds nothing but text", rel)
		}
		if strings.Count(rel, "/") > 1 {
			t.Errorf("%s is more than one folder below the repository root, where AutoPkg does not look", rel)
		}
	}
}

// testPins are pins for a release made of these files: the host's real
// binary for the host platform, stand-ins (distinct bytes) for the rest.
func testPins(t *testing.T, binDir, downloadURL string) *Pins {
	t.Helper()
	pins := &Pins{Version: "0.0.0-test", Tag: "v0.0.0-test", DownloadURL: downloadURL, Manifests: currentManifests()}
	os.MkdirAll(binDir, 0o755)
	for _, plat := range []string{"darwin", "linux/amd64", "linux/arm64"} {
		goos, goarch, _ := strings.Cut(plat, "/")
		name := "jcds2-uploader"
		file := "jcds2-uploader_0.0.0-test_darwin_all"
		if goos != "darwin" {
			name += "-" + goos + "-" + goarch
			file = "jcds2-uploader_0.0.0-test_" + goos + "_" + goarch
		}
		data := []byte("#!/bin/sh\n# stand-in for " + plat + "\nexit 0\n")
		if plat == hostTarget() {
			data = mustRead(t, hostBin)
		}
		if err := os.WriteFile(filepath.Join(binDir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		pins.Assets = append(pins.Assets, Asset{Platform: plat, File: file, SHA256: hex.EncodeToString(sum[:])})
	}
	return pins
}

// shimPythons are the interpreters the shim's unit tests run under: the
// first of $PYTHON, /usr/bin/python3 and python3 that exists, then every
// one in $SHIM_PYTHONS (space-separated; CI adds a Python 3.10, what
// AutoPkg bundles on macOS, when it has one).
func shimPythons(t *testing.T) []string {
	var out []string
	for _, p := range []string{os.Getenv("PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			out = append(out, found)
			break
		}
	}
	if len(out) == 0 {
		t.Fatal("no python3 found: install python3, or set PYTHON")
	}
	return append(out, strings.Fields(os.Getenv("SHIM_PYTHONS"))...)
}

// The shim's unit tests (testdata/shimtest): what the real-AutoPkg test
// cannot reach from this machine (other platforms, PATH, the download's
// failure modes). Standard library only, over a minimal autopkglib
// stand-in, against a shim rendered for test pins, a release host on
// loopback HTTPS and the simulator.
func TestShimUnderPython(t *testing.T) {
	sim := startSim(t, hostBin)
	host := startReleaseHost(t)
	layout := t.TempDir()
	pins := testPins(t, filepath.Join(layout, "bin"), host.URL()+"/download/")
	for _, a := range pins.Assets {
		host.serve(a.File, filepath.Join(layout, "bin", binName(a.Platform)))
	}
	if _, err := writeShims(layout, pins); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../testdata/shimtest")
	for _, py := range shimPythons(t) {
		cmd := exec.Command(py, "-B", "-m", "unittest", "-v", "test_shim")
		cmd.Dir = abs
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8",
			"PYTHONPATH=" + abs, "PYTHONDONTWRITEBYTECODE=1", "SSL_CERT_FILE=" + host.caFile,
			"SHIM_DIR=" + layout, "RELEASE_HOST=" + host.URL(), "HOST_PLATFORM=" + hostTarget(),
			"SIM_URL=" + sim.vars["JSS_URL"], "AWS_ENDPOINT_URL_S3=" + sim.vars["AWS_ENDPOINT_URL_S3"],
			"SIM_CLIENT_ID=" + sim.vars["CLIENT_ID"], "SIM_CLIENT_SECRET=" + sim.vars["CLIENT_SECRET"],
		}
		out, err := cmd.CombinedOutput()
		t.Logf("%s -m unittest:\n%s", py, out)
		if err != nil || !bytes.Contains(out, []byte("\nOK")) {
			t.Fatalf("the shim's Python tests failed under %s: %v", py, err)
		}
	}
}

// binName is the bin/ file the shim looks for beside it on a platform.
func binName(plat string) string {
	if plat == "darwin" {
		return "jcds2-uploader"
	}
	return "jcds2-uploader-" + strings.ReplaceAll(plat, "/", "-")
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The release notes are CHANGELOG.md's section for the tag, and every
// section says whether overrides need `autopkg update-trust-info`.
func TestReleaseNotes(t *testing.T) {
	notes, err := releaseNotes("../CHANGELOG.md", "Unreleased")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(notes, trustLine) || strings.Contains(notes, "## [") {
		t.Fatalf("notes for Unreleased:\n%s", notes)
	}
	changelog := mustRead(t, "../CHANGELOG.md")
	for _, line := range strings.Split(string(changelog), "\n") {
		if v, ok := strings.CutPrefix(line, "## ["); ok {
			v, _, _ = strings.Cut(v, "]")
			if _, err := releaseNotes("../CHANGELOG.md", "v"+v); err != nil {
				t.Error(err)
			}
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte("# Changelog\n\n## [1.2.3] - 2026-12-07\n\n### Fixed\n\n- a thing\n"), 0o644)
	if _, err := releaseNotes(filepath.Join(dir, "CHANGELOG.md"), "v1.2.3"); err == nil || !strings.Contains(err.Error(), "update-trust-info") {
		t.Errorf("a section without the trust-info line: %v", err)
	}
	if _, err := releaseNotes(filepath.Join(dir, "CHANGELOG.md"), "v9.9.9"); err == nil || !strings.Contains(err.Error(), "no section") {
		t.Errorf("a version without a section: %v", err)
	}
}
