package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Hardening, class 2 (issue #22): a cache file is used only when it is a
// regular file of ours that nobody else can write, of a sane size; else
// it is ignored with a line at verbose 1 and replaced (the folder is
// ours). A cache entry never overrides what the server shows.

// A named pipe at the hash cache's path used to block the run before
// its first request, for ever.
func TestFIFOAtHashCacheDoesNotHang(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Fifo.pkg", 1<<20, 31)
	env := baseEnv(t, sim, pkg)
	env["verbose"] = 1
	cache := filepath.Join(env["RECIPE_CACHE_DIR"].(string), "jcds2-uploader-hashes.json")
	if err := syscall.Mkfifo(cache, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := runEnvTimeout(t, sim, env, 60*time.Second)
	if r.code != 0 {
		t.Fatalf("exit %d after %s:\n%s", r.code, time.Since(start), r.stderr)
	}
	if !strings.Contains(string(r.stderr), "Hash cache: "+cache+": it is not a regular file (a named pipe); hashing the package instead") {
		t.Fatalf("no verbose line saying the pipe was ignored:\n%s", r.stderr)
	}
	if st, err := os.Lstat(cache); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("the pipe was not replaced by a 0600 cache file: %v %v", st, err)
	}
	assertConverged(t, sim, "Fifo.pkg", pkg)
}

// The same for the token cache (jcds2_reuse_auth).
func TestFIFOAtTokenCacheDoesNotHang(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "FifoTok.pkg", 1<<20, 32)
	env := baseEnv(t, sim, pkg)
	env["jcds2_reuse_auth"] = "True"
	env["verbose"] = 1
	mustRun(t, sim, env)
	tok := tokenCacheFile(t, env)
	os.Remove(tok)
	if err := syscall.Mkfifo(tok, 0o600); err != nil {
		t.Fatal(err)
	}
	sim.ResetLog()
	r := runEnvTimeout(t, sim, env, 60*time.Second)
	if r.code != 0 || !strings.Contains(string(r.stderr), "Token cache: "+tok+": it is not a regular file (a named pipe); getting a new token") {
		t.Fatalf("exit %d, want the pipe ignored at verbose 1:\n%s", r.code, r.stderr)
	}
	if st, err := os.Lstat(tok); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("the pipe was not replaced: %v %v", st, err)
	}
}

// A token file another user planted is never used: the run mints its
// own (and saves it over the planted one, since the folder is ours).
func TestPlantedTokenOfAnotherUserIsIgnored(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a file of another user needs root (CI runs as root)")
	}
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Planted.pkg", 1<<20, 33)
	env := baseEnv(t, sim, pkg)
	env["jcds2_reuse_auth"] = "True"
	env["verbose"] = 1
	mustRun(t, sim, env)
	tok := tokenCacheFile(t, env)
	if err := os.Chown(tok, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	sim.ResetLog()
	r := runEnvTimeout(t, sim, env, 60*time.Second)
	if r.code != 0 || !strings.Contains(string(r.stderr), "Token cache: "+tok+": it belongs to another user (uid 65534); getting a new token") {
		t.Fatalf("exit %d, want the planted token ignored:\n%s", r.code, r.stderr)
	}
	if c := calls(sim); len(c) == 0 || !strings.Contains(c[0], "oauth/token") {
		t.Fatalf("the first request must mint a token of our own: %v", c)
	}
	st, _ := os.Stat(tok)
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("the planted file was not replaced by ours: uid %d mode %v", s.Uid, st.Mode())
	}
}

// A crafted hash-cache entry (of ours: a cache can always be wrong) that
// gives new bytes the old hash no longer makes replace_pkg call them
// unchanged: a replacing run hashes the bytes on disk and compares
// them with the server's.
func TestReplaceNeverTrustsTheHashCache(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "Crafted.pkg", 1<<20, 34)
	env := baseEnv(t, sim, pkg)
	mustRun(t, sim, env)
	oldHashes, err := jcds2.HashFile(pkg, true, true)
	if err != nil {
		t.Fatal(err)
	}
	writePkg(t, dir, "Crafted.pkg", 1<<20, 35) // new bytes, same size
	st, _ := os.Stat(pkg)
	s := st.Sys().(*syscall.Stat_t)
	stamp := fmt.Sprintf("%s|%d|%d|%d:%d", pkg, st.Size(), st.ModTime().UnixNano(), s.Dev, s.Ino)
	data, _ := json.Marshal(map[string]jcds2.Hashes{stamp: oldHashes})
	cache := filepath.Join(env["RECIPE_CACHE_DIR"].(string), "jcds2-uploader-hashes.json")
	if err := os.WriteFile(cache, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env["replace_pkg"] = "True"
	out := mustRun(t, sim, env)
	if out["pkg_uploaded"] != true {
		t.Fatalf("replace_pkg believed the crafted cache entry: %v", out)
	}
	assertConverged(t, sim, "Crafted.pkg", pkg)
}

func tokenCacheFile(t *testing.T, env processor.Env) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(env["RECIPE_CACHE_DIR"].(string), "jcds2-uploader-token-*.json"))
	if len(files) != 1 {
		t.Fatalf("token cache files: %v", files)
	}
	return files[0]
}

// runEnvTimeout is runEnv, failing when the run took longer than d.
func runEnvTimeout(t *testing.T, sim *jamfsim.Server, env processor.Env, d time.Duration) result {
	t.Helper()
	start := time.Now()
	r := runEnv(t, sim, env, processor.FormatBinary)
	if took := time.Since(start); took > d {
		t.Fatalf("the run took %s (more than %s):\n%s", took, d, r.stderr)
	}
	return r
}
