package main

// GoReleaser as the release workflow runs it, on a copy of this checkout
// committed with fixed dates (so two copies are one commit): what a
// snapshot leaves in dist/, and that two builds give the same bytes.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/macho"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/release/fat"
)

// goreleaserModule is the GoReleaser tools/go.mod pins; .ci/run installs
// the same into $(go env GOPATH)/bin.
const goreleaserModule = "github.com/goreleaser/goreleaser/v2"

func goreleaserVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../tools/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == goreleaserModule {
			return f[1]
		}
	}
	t.Fatalf("tools/go.mod does not require %s", goreleaserModule)
	return ""
}

var (
	grOnce sync.Once
	grPath string
	grErr  error
)

// goreleaser is $GORELEASER_BIN, else the pinned version in
// $(go env GOPATH)/bin, built from tools/go.mod when missing (minutes
// once on a fresh machine, as MinIO is).
func goreleaser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GORELEASER_BIN"); p != "" {
		return p
	}
	want := goreleaserVersion(t)
	grOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			grErr = err
			return
		}
		grPath = filepath.Join(strings.Split(strings.TrimSpace(string(out)), string(os.PathListSeparator))[0], "bin", "goreleaser")
		if info, err := exec.Command("go", "version", "-m", grPath).Output(); err == nil && bytes.Contains(info, []byte(want)) {
			return
		}
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", grPath, goreleaserModule)
		cmd.Dir = "../tools"
		if out, err := cmd.CombinedOutput(); err != nil {
			grErr = fmt.Errorf("building GoReleaser %s from tools/go.mod: %v\n%s", want, err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "built GoReleaser %s into %s in %s\n", want, grPath, time.Since(start).Round(time.Second))
	})
	if grErr != nil {
		t.Fatal(grErr)
	}
	return grPath
}

// commitCopy copies this checkout's files (tracked, and new ones not
// ignored, as they are in the working tree) to dir and commits them with
// fixed dates: every copy is the same commit.
func commitCopy(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if _, err := os.Lstat(filepath.Join("..", rel)); err != nil {
			continue // deleted in the working tree
		}
		copyFile(t, filepath.Join("..", rel), filepath.Join(dir, rel))
	}
	gitCommit(t, dir, "the checkout under test")
}

// gitCommit commits everything in dir (git init first if needed) with a
// fixed author and date.
func gitCommit(t *testing.T, dir, msg string) {
	t.Helper()
	env := append(os.Environ(), "GIT_AUTHOR_NAME=release test", "GIT_AUTHOR_EMAIL=test@example.invalid",
		"GIT_COMMITTER_NAME=release test", "GIT_COMMITTER_EMAIL=test@example.invalid",
		"GIT_AUTHOR_DATE=2026-12-01T12:00:00Z", "GIT_COMMITTER_DATE=2026-12-01T12:00:00Z")
	// GoReleaser reads the commit only from a clone with a remote (without
	// one it stamps commit "none" and a zero date), as a real clone has.
	steps := [][]string{{"add", "-A"}, {"commit", "-q", "--no-gpg-sign", "-m", msg}}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		steps = append([][]string{{"init", "-q", "-b", "main"}, {"remote", "add", "origin", repoURL + ".git"}}, steps...)
	}
	for _, args := range steps {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// snapshot runs `goreleaser release --snapshot --clean` in dir, as the
// release workflow and a contributor run it, with no signing secrets.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MACOS_") && !strings.HasPrefix(kv, "HOMEBREW_TAP_TOKEN=") && !strings.HasPrefix(kv, "GITHUB_TOKEN=") {
			env = append(env, kv)
		}
	}
	start := time.Now()
	cmd := exec.Command(goreleaser(t), "release", "--snapshot", "--clean", "--parallelism", "2")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser release --snapshot --clean in %s: %v\n%s", dir, err, out)
	}
	t.Logf("goreleaser release --snapshot --clean: %s", time.Since(start).Round(time.Second))
	return filepath.Join(dir, "dist")
}

var (
	distOnce sync.Once
	distDir  string
	distRoot string // removed by TestMain
)

// sharedDist is one snapshot of this checkout, built once per test
// process and shared by the tests that read a release.
func sharedDist(t *testing.T) string {
	t.Helper()
	distOnce.Do(func() {
		dir := filepath.Join(distRoot, "a", "jcds2-uploader")
		commitCopy(t, dir)
		distDir = snapshot(t, dir)
	})
	if distDir == "" {
		t.Fatal("the shared snapshot build failed (see the first test that used it)")
	}
	return distDir
}

// distPath is where the release file name is in dist.
func distPath(t *testing.T, dist, name string) string {
	t.Helper()
	paths, err := distPaths(dist)
	if err != nil {
		t.Fatal(err)
	}
	if paths[name] == "" {
		t.Fatalf("%s holds no release file %s: %v", dist, name, paths)
	}
	return paths[name]
}

// distFiles are the release files checksums.txt lists: name -> SHA-256.
func distFiles(t *testing.T, dist string) map[string]string {
	t.Helper()
	sums, err := readChecksums(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestSnapshotIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: two GoReleaser builds")
	}
	a := sharedDist(t)
	other := filepath.Join(distRoot, "b", "elsewhere", "jcds2-uploader") // another path: -trimpath at work
	commitCopy(t, other)
	b := snapshot(t, other)
	sa, sb := distFiles(t, a), distFiles(t, b)
	var names []string
	for name := range sa {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(sa) != len(sb) {
		t.Fatalf("the two builds made different files: %v vs %v", sa, sb)
	}
	for _, name := range names {
		if sa[name] != sb[name] {
			t.Errorf("%s differs between two builds of one commit: %s vs %s", name, sa[name], sb[name])
		}
	}
	t.Logf("%d release files byte-identical across two builds: %s", len(names), strings.Join(names, ", "))
	// And the binaries themselves, not only what checksums.txt says.
	for _, name := range names {
		if !strings.Contains(name, ".tar.gz") {
			x, y := mustRead(t, distPath(t, a, name)), mustRead(t, distPath(t, b, name))
			if !bytes.Equal(x, y) {
				t.Errorf("%s: bytes differ", name)
			}
		}
	}
}

func TestSnapshotHoldsTheRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a GoReleaser build")
	}
	dist := sharedDist(t)
	var meta struct{ Version, Commit, Tag string }
	if err := readJSON(filepath.Join(dist, "metadata.json"), &meta); err != nil {
		t.Fatal(err)
	}
	sums := distFiles(t, dist)
	v := meta.Version
	want := []string{
		"jcds2-uploader_" + v + "_darwin_all", "jcds2-uploader_" + v + "_darwin_all.tar.gz",
		"jcds2-uploader_" + v + "_linux_amd64", "jcds2-uploader_" + v + "_linux_amd64.tar.gz",
		"jcds2-uploader_" + v + "_linux_arm64", "jcds2-uploader_" + v + "_linux_arm64.tar.gz",
	}
	for _, name := range want {
		sum, err := sha256File(distPath(t, dist, name))
		if err != nil || sums[name] != sum {
			t.Errorf("%s: SHA-256 %s (%v), checksums.txt says %q", name, sum, err, sums[name])
		}
	}
	if len(sums) != len(want) {
		t.Errorf("checksums.txt lists %d files, want %d: %v", len(sums), len(want), sums)
	}

	t.Run("the Mac binary is universal", func(t *testing.T) {
		f, err := macho.OpenFat(distPath(t, dist, "jcds2-uploader_"+v+"_darwin_all"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var cpus []string
		for _, a := range f.Arches {
			cpus = append(cpus, a.Cpu.String())
			if a.Type != macho.TypeExec {
				t.Errorf("slice %v is a %v, not an executable", a.Cpu, a.Type)
			}
		}
		// In this order whichever build finished first (release/fat).
		if strings.Join(cpus, ",") != "CpuAmd64,CpuArm64" {
			t.Fatalf("slices: %v, want amd64 then arm64", cpus)
		}
	})

	t.Run("fatorder puts the slices back in order", func(t *testing.T) {
		path := distPath(t, dist, "jcds2-uploader_"+v+"_darwin_all")
		want := mustRead(t, path)
		f, err := macho.NewFatFile(bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		var swapped []fat.Slice
		for i := len(f.Arches) - 1; i >= 0; i-- { // as if arm64 had finished first
			a := f.Arches[i]
			swapped = append(swapped, fat.Slice{CPU: uint32(a.Cpu), SubCPU: a.SubCpu, Data: want[a.Offset : a.Offset+a.Size]})
		}
		other := filepath.Join(t.TempDir(), "jcds2-uploader")
		if err := os.WriteFile(other, fat.Bytes(swapped), 0o755); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(mustRead(t, other), want) {
			t.Fatal("the swapped file is the same bytes")
		}
		// As the universal binary's post hook runs it.
		cmd := exec.Command("go", "run", "./fatorder", other)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go run ./release/fatorder: %v\n%s", err, out)
		}
		if err := fat.Order(other); err != nil { // a second time: nothing to do
			t.Fatal(err)
		}
		if !bytes.Equal(mustRead(t, other), want) {
			t.Fatal("fatorder did not give back the release's bytes")
		}
		if info, err := os.Stat(other); err != nil || info.Mode().Perm() != 0o755 {
			t.Fatalf("fatorder left %v %v", info, err)
		}
	})

	t.Run("version prints version, commit and date", func(t *testing.T) {
		bin := distPath(t, dist, "jcds2-uploader_"+v+"_linux_amd64")
		if hostTarget() != "linux/amd64" {
			t.Skipf("cannot run a linux/amd64 binary on %s", hostTarget())
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		wantLine := fmt.Sprintf("jcds2-uploader %s (commit %s, date 2026-12-01T12:00:00Z)\n", v, meta.Commit)
		if string(out) != wantLine {
			t.Fatalf("version printed %q, want %q", out, wantLine)
		}
	})

	t.Run("each archive holds the binary and the docs", func(t *testing.T) {
		for _, plat := range []string{"darwin_all", "linux_amd64", "linux_arm64"} {
			name := "jcds2-uploader_" + v + "_" + plat
			got := tarEntries(t, filepath.Join(dist, name+".tar.gz"))
			if !bytes.Equal(got["jcds2-uploader"], mustRead(t, distPath(t, dist, name))) {
				t.Errorf("%s.tar.gz: its jcds2-uploader is not the bare %s", name, name)
			}
			for _, doc := range []string{"README.md", "LICENSE", "CHANGELOG.md", "docs/install.md"} {
				if !bytes.Equal(got[doc], mustRead(t, filepath.Join("..", doc))) {
					t.Errorf("%s.tar.gz lacks %s", name, doc)
				}
			}
		}
	})

	t.Run("a Homebrew cask for the tap", func(t *testing.T) {
		cask := string(mustRead(t, filepath.Join(dist, "homebrew", "Casks", "jcds2-uploader.rb")))
		for _, s := range []string{`version "` + v + `"`, sums["jcds2-uploader_"+v+"_darwin_all.tar.gz"], `binary "jcds2-uploader"`,
			"/releases/download/" + meta.Tag + "/jcds2-uploader_#{version}_darwin_all.tar.gz"} {
			if !strings.Contains(cask, s) {
				t.Errorf("the cask lacks %q:\n%s", s, cask)
			}
		}
	})

	t.Run("pin reads the bare binaries", func(t *testing.T) {
		pins, err := pinDist(dist, "")
		if err != nil {
			t.Fatal(err)
		}
		if pins.Version != v || pins.DownloadURL != repoURL+"/releases/download/"+meta.Tag+"/" || len(pins.Assets) != 3 {
			t.Fatalf("pins: %+v", pins)
		}
		for _, a := range pins.Assets {
			if sums[a.File] != a.SHA256 {
				t.Errorf("%s pinned %s, checksums.txt %s", a.File, a.SHA256, sums[a.File])
			}
		}
		if _, err := shimSource(processors[0], pins); err != nil {
			t.Fatal(err)
		}
	})
}

func tarEntries(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, _ := io.ReadAll(tr)
		out[h.Name] = data
	}
}
