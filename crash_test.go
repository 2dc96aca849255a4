package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// The crash suite: an upload is killed with SIGKILL at a chosen moment,
// held there by the simulator, then run again without replace_pkg. Every
// time the second run converges to one record and one file with the
// right hash. SIGINT and SIGTERM abort cleanly instead.

type crashPoint struct {
	name  string
	hold  string // the request the process is killed while waiting on
	route string // "" auto (JCDS 2.0), "pkg_api_mode"
}

var crashPoints = []crashPoint{
	{"after the token", "GET /api/v1/jamf-pro-version", ""},
	{"before credentials", "POST /api/v1/jcds/files", ""},
	{"mid-upload", "UploadPart", ""},
	{"completing the upload", "CompleteMultipartUpload", ""},
	{"between upload and metadata", "POST /api/v1/cloud-distribution-point/refresh-inventory", ""},
	{"during verification", "GET /api/v1/jcds/files", ""},
	{"writing the record", "POST /api/v1/packages", ""},
	{"packages route: after the record", "POST /api/v1/packages/1/upload", "pkg_api_mode"},
	{"packages route: verifying", "GET /api/v1/packages/1", "pkg_api_mode"},
}

// startHeld starts the binary and returns once the simulator holds the
// first of the next n requests matching hold.
func startHeld(t *testing.T, sim *jamfsim.Server, env processor.Env, hold string, n int) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	arrived := sim.DelayNotify(hold, time.Minute, n)
	cmd, stderr := processCmd(sim, env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the run never reached %s:\n%s", hold, stderr.String())
	}
	return cmd, stderr
}

func TestCrashesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash suite is long; CI runs it without -short")
	}
	for i, cp := range crashPoints {
		t.Run(cp.name, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			pkg := writePkg(t, t.TempDir(), "Crash.pkg", 20<<20, byte(i))
			env := baseEnv(t, sim, pkg)
			if cp.route != "" {
				env[cp.route] = "True"
			}
			if cp.hold == "GET /api/v1/jcds/files" {
				// The first listing is the lookup; hold the verification.
				sim.Pass("GET /api/v1/jcds/files", 1)
			}
			cmd, _ := startHeld(t, sim, env, cp.hold, 1)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			sim.ClearFaults()
			// A fresh cache, as on another machine, and no replace_pkg.
			env["RECIPE_CACHE_DIR"] = t.TempDir()
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 0 {
				t.Fatalf("the run after the crash failed: exit %d\n%s", r.code, r.stderr)
			}
			sim.Ingest(context.Background())
			files := sim.Files()
			if len(files) != 1 || files["Crash.pkg"].MD5 != fileMD5(t, pkg) {
				t.Fatalf("want exactly Crash.pkg with the local bytes, got %v", files)
			}
			if recs := sim.Packages(); len(recs) != 1 {
				t.Fatalf("want exactly one record, got %v", recs)
			}
		})
	}
	t.Logf("%d crash points tried, every one converged", len(crashPoints))
}

func TestInterruptAbortsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			// Every part is held, so the interrupt comes while the file is
			// still being read.
			pkg := writePkg(t, t.TempDir(), "Stop.pkg", 100<<20, 7)
			cmd, stderr := startHeld(t, sim, baseEnv(t, sim, pkg), "UploadPart", 1000)
			cmd.Process.Signal(sig)
			// The held part is let go; the upload must then be aborted.
			sim.ClearFaults()
			err := cmd.Wait()
			if err == nil {
				t.Fatal("an interrupted run must exit non-zero")
			}
			last := strings.TrimSpace(stderr.String())
			last = last[strings.LastIndex(last, "\n")+1:]
			if last != "ProcessorError: interrupted while uploading to JCDS: the multipart upload was aborted and nothing was changed in Jamf Pro" {
				t.Fatalf("last line: %q", last)
			}
			if open, _ := sim.UnfinishedUploads(context.Background()); len(open) != 0 {
				t.Fatalf("the multipart upload was left open: %v", open)
			}
			if len(sim.Packages()) != 0 {
				t.Fatal("no record may be written")
			}
		})
	}
}
