package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// A package that changes while it is uploaded (a build still writing
// it) is never uploaded torn: the upload is abandoned before it
// completes, nothing is recorded, and no hash of it is cached, so the
// next run, once the file is whole, uploads it.

type change struct {
	name  string
	apply func(path string) error
}

var changes = []change{
	{"rewritten in place, same size", func(p string) error {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteAt([]byte("torn"), 1<<20)
		return err
	}},
	{"grown", func(p string) error {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write(make([]byte, 1<<20))
		return err
	}},
	{"shrunk", func(p string) error { return os.Truncate(p, 3<<20) }},
}

func TestFileChangedDuringUpload(t *testing.T) {
	for _, route := range []string{"", "pkg_api_mode"} {
		for _, c := range changes {
			t.Run(c.name+" "+route, func(t *testing.T) {
				sim := newSim(t, jamfsim.Config{})
				pkg := writePkg(t, t.TempDir(), "Torn.pkg", 24<<20, 91)
				env := baseEnv(t, sim, pkg)
				hold := "UploadPart"
				if route != "" {
					env[route] = "True"
					hold = "POST /api/v1/packages/1/upload"
				}
				// The upload is held while the file changes under it.
				cmd, stderr := startHeld(t, sim, env, hold, 1)
				if err := c.apply(pkg); err != nil {
					t.Fatal(err)
				}
				// Make the change visible in the mtime even on a coarse clock.
				later := time.Now().Add(2 * time.Second)
				os.Chtimes(pkg, later, later)
				sim.ClearFaults()
				err := cmd.Wait()
				last := lastStderrLine(stderr.String())
				if err == nil || cmd.ProcessState.ExitCode() != 10 || !strings.Contains(last, "changed while it was being read") {
					t.Fatalf("exit %d, last line %q\n%s", cmd.ProcessState.ExitCode(), last, stderr)
				}
				sim.Ingest(context.Background())
				if files := sim.Files(); len(files) != 0 {
					t.Fatalf("a torn file reached the distribution point: %v", files)
				}
				// (On the packages route the open upload would be the
				// simulator's own storage; its handler aborts it once the
				// cut body is noticed, which may come a moment later.)
				var open []string
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
					if open, _ = sim.UnfinishedUploads(context.Background()); len(open) == 0 || time.Now().After(deadline) {
						break
					}
				}
				if len(open) != 0 {
					t.Fatalf("a multipart upload was left open: %v", open)
				}
				for _, p := range sim.Packages() {
					if deref(p.HashValue) != "" {
						t.Fatalf("a record claims a hash for a torn upload: %+v", p)
					}
				}
				// The file is whole now: the next run (same cache) uploads it.
				mustRun(t, sim, env)
				assertConverged(t, sim, "Torn.pkg", pkg)
			})
		}
	}
}
