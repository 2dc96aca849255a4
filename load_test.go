package main

import (
	"fmt"
	"sync"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Twenty uploads at once, each its own process with its own token and
// JCDS credentials, against one simulator: all succeed, and each file
// holds its own package's bytes (no cross-talk of credentials or parts).
func TestTwentyParallelUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("20 processes; CI runs it without -short")
	}
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	const n = 20
	pkgs := make([]string, n)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		pkgs[i] = writePkg(t, dir, fmt.Sprintf("Load-%02d.pkg", i), 10<<20, byte(i))
		env := baseEnv(t, sim, pkgs[i])
		env["jcds2_concurrency"] = "2"
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runEnv(t, sim, env, processor.FormatBinary)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
			t.Fatalf("upload %d: exit %d %v\n%s", i, r.code, r.env["pkg_upload_status"], r.stderr)
		}
	}
	files, recs := sim.Files(), sim.Packages()
	if len(files) != n || len(recs) != n {
		t.Fatalf("%d files and %d records, want %d of each", len(files), len(recs), n)
	}
	for i, p := range pkgs {
		name := fmt.Sprintf("Load-%02d.pkg", i)
		if files[name].MD5 != fileMD5(t, p) {
			t.Fatalf("%s holds another package's bytes", name)
		}
	}
}
