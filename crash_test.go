package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	name    string
	hold    string // the request the process is killed while waiting on
	route   string // "" auto (JCDS 2.0), "pkg_api_mode"
	replace bool   // a replace_pkg run of new bytes over an uploaded package
	pass    int    // let this many matching requests through first
	// either: killed before the new bytes can have landed, a plain run
	// may keep the old version; it must then describe it truthfully.
	either bool
}

var crashPoints = []crashPoint{
	{"after the token", "GET /api/v1/jamf-pro-version", "", false, 0, false},
	{"before credentials", "POST /api/v1/jcds/files", "", false, 0, false},
	{"mid-upload", "UploadPart", "", false, 0, false},
	{"completing the upload", "CompleteMultipartUpload", "", false, 0, false},
	{"between upload and metadata", "POST /api/v1/cloud-distribution-point/refresh-inventory", "", false, 0, false},
	{"during verification", "GET /api/v1/jcds/files", "", false, 0, false},
	{"writing the record", "POST /api/v1/packages", "", false, 0, false},
	{"packages route: after the record", "POST /api/v1/packages/1/upload", "pkg_api_mode", false, 0, false},
	{"packages route: verifying", "GET /api/v1/packages/1", "pkg_api_mode", false, 0, false},
	{"packages route: refreshing", "POST /api/v1/cloud-distribution-point/refresh-inventory", "pkg_api_mode", false, 0, false},
	// Replacements: the killed run had replace_pkg; the next one has not.
	{"replace: deleting the stale file", "DELETE /api/v1/jcds/files/Crash.pkg", "", true, 0, true},
	{"replace: mid-upload", "UploadPart", "", true, 0, false},
	{"replace: waiting for JCDS", "GET /api/v1/jcds/files", "", true, 1, false},
	{"replace: after the upload, before the record", "PUT /api/v1/packages/1", "", true, 0, false},
	{"replace: refreshing", "POST /api/v1/cloud-distribution-point/refresh-inventory", "", true, 0, false},
	{"replace: verifying", "GET /api/v1/packages/1", "", true, 0, false},
	{"replace, packages route: the record", "PUT /api/v1/packages/1", "pkg_api_mode", true, 0, true},
	{"replace, packages route: mid-upload", "POST /api/v1/packages/1/upload", "pkg_api_mode", true, 0, false},
	{"replace, packages route: refreshing", "POST /api/v1/cloud-distribution-point/refresh-inventory", "pkg_api_mode", true, 0, false},
}

// startHeld starts the binary (extra: more environment) and returns once
// the simulator holds the first of the next n requests matching hold.
func startHeld(t *testing.T, sim *jamfsim.Server, env processor.Env, hold string, n int, extra ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	arrived := sim.DelayNotify(hold, time.Minute, n)
	cmd, stderr := processCmd(sim, env)
	cmd.Env = append(cmd.Env, extra...)
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
			dir := t.TempDir()
			pkg := writePkg(t, dir, "Crash.pkg", 20<<20, byte(i))
			env := baseEnv(t, sim, pkg)
			if cp.route != "" {
				env[cp.route] = "True"
			}
			if cp.replace {
				mustRun(t, sim, env)
				writePkg(t, dir, "Crash.pkg", 20<<20, byte(i)+100)
				env["replace_pkg"] = "True"
			}
			pass := cp.pass
			if cp.hold == "GET /api/v1/jcds/files" && !cp.replace {
				pass = 1 // the first listing is the lookup; hold the wait for JCDS
			}
			if pass > 0 {
				sim.Pass(cp.hold, pass)
			}
			cmd, _ := startHeld(t, sim, env, cp.hold, 1)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			sim.ClearFaults()
			// A fresh cache, as on another machine, and no replace_pkg.
			env["RECIPE_CACHE_DIR"] = t.TempDir()
			env["replace_pkg"] = "False"
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 0 {
				t.Fatalf("the run after the crash failed: exit %d\n%s", r.code, r.stderr)
			}
			if cp.either {
				assertTruthful(t, sim, "Crash.pkg")
				return
			}
			// The file the killed run sent reached the distribution point
			// or did not; either way a plain run completes what was asked.
			// (A multipart upload killed mid-way stays open in the bucket:
			// nothing can abort it, and Jamf Pro never lists it; S3
			// lifecycle rules remove it. The oracle judges what Jamf sees.)
			assertState(t, sim, "Crash.pkg", pkg)
		})
	}
	t.Logf("%d crash points tried, every one converged", len(crashPoints))
}

// SIGKILL between a copy to a distribution point and the record (and
// around the hash the record stops claiming while its files change), on
// a file share beside JCDS or alone, on a Classic server, and on the
// self-hosted S3 point: at the kill no record claims bytes the share
// does not hold, and a plain re-run converges. (Every action boundary of
// every plan cell is stopped at in-process: jcds2/crash_test.go; these
// are the same boundaries through the real binary and SIGKILL.)
func TestKilledAroundAShareCopyConverges(t *testing.T) {
	cases := []struct {
		name    string
		cloud   bool
		replace bool
		hold    string
		pass    int
		classic bool // a server before 11.5: the record through the Classic API
		s3      bool // the self-hosted S3 point (aws_cdp_mode, MinIO) instead of a share
	}{
		{"shares only: creating the record after the copy", false, false, "POST /api/v1/packages", 0, false, false},
		{"shares only, replacing: clearing the record's hash", false, true, "PUT /api/v1/packages/1", 0, false, false},
		{"shares only, replacing: the record after the copy", false, true, "PUT /api/v1/packages/1", 1, false, false},
		{"share and JCDS: the upload after the copy", true, false, "POST /api/v1/jcds/files", 0, false, false},
		{"Classic, shares only: creating the record after the copy", false, false, "POST /JSSResource/packages/id/0", 0, true, false},
		// Killed while the Classic POST is held (the server made the
		// record): the Classic API shows no status, so the re-run must
		// refresh or the record stays Availability Pending (jcds2/observe.go, ready).
		{"Classic and JCDS: creating the record after the upload", true, false, "POST /JSSResource/packages/id/0", 0, true, false},
		{"S3 point: creating the record after the upload", false, false, "POST /api/v1/packages", 0, false, true},
		{"S3 point: refreshing after the record", false, false, "POST /api/v1/cloud-distribution-point/refresh-inventory", 0, false, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := jamfsim.Config{}
			if c.classic {
				cfg.Version = "11.4.0"
				cfg.NoJCDS = !c.cloud
			}
			if c.s3 {
				cfg = jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"}
			}
			sim := newSim(t, cfg)
			dir := t.TempDir()
			pkg := writePkg(t, dir, "Kill.pkg", 4<<20, byte(80+i))
			env := baseEnv(t, sim, pkg)
			var aws []string
			packages := ""
			if c.s3 {
				env["aws_cdp_mode"], env["S3_BUCKET_NAME"] = "True", sim.Config().Bucket
				aws = []string{"AWS_ENDPOINT_URL_S3=" + minio.URL, "AWS_ACCESS_KEY_ID=" + minio.RootUser, "AWS_SECRET_ACCESS_KEY=" + minio.RootPassword,
					"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none")}
			} else {
				var url string
				url, packages = shareDir(t)
				env["SMB_URL"], env["CLOUD_DP"] = url, map[bool]string{true: "True", false: "False"}[c.cloud]
			}
			if c.replace {
				if r := runDecoded(t, sim, env, aws...); r.code != 0 {
					t.Fatalf("the first version: exit %d\n%s", r.code, r.stderr)
				}
				writePkg(t, dir, "Kill.pkg", 4<<20, byte(90+i))
				env["replace_pkg"] = "True"
			}
			if c.pass > 0 {
				sim.Pass(c.hold, c.pass)
			}
			cmd, _ := startHeld(t, sim, env, c.hold, 1, aws...)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			sim.ClearFaults()
			// At the kill: a record's hash, if any, is that of the share's bytes.
			if held, err := os.ReadFile(filepath.Join(packages, "Kill.pkg")); packages != "" && err == nil {
				for _, p := range sim.Packages() {
					if v := deref(p.HashValue); v != "" && !hashOf(t, v, held) {
						t.Fatalf("killed at %s: record %s claims %s, which the share does not hold", c.hold, p.ID, v)
					}
				}
			}
			r := runDecoded(t, sim, env, aws...)
			if r.code != 0 {
				t.Fatalf("the run after the kill: exit %d\n%s", r.code, r.stderr)
			}
			if packages != "" {
				sameBytes(t, filepath.Join(packages, "Kill.pkg"), pkg)
			}
			if c.classic {
				want, _ := os.ReadFile(pkg)
				for _, p := range sim.Packages() {
					if p.FileName == "Kill.pkg" && !hashOf(t, deref(p.HashValue), want) {
						t.Fatalf("record %s claims %s %s, not the local bytes", p.ID, deref(p.HashType), deref(p.HashValue))
					}
				}
			} else {
				recordDescribes(t, sim, "Kill.pkg", pkg)
			}
			if c.cloud || c.s3 {
				assertConverged(t, sim, "Kill.pkg", pkg)
			}
		})
	}
}

// hashOf reports whether v is the SHA3-512 or the MD5 of b.
func hashOf(t *testing.T, v string, b []byte) bool {
	t.Helper()
	f := filepath.Join(t.TempDir(), "held")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sha3, _, err := jamfsim.FileSHA3(f)
	if err != nil {
		t.Fatal(err)
	}
	return strings.EqualFold(v, sha3) || strings.EqualFold(v, fmt.Sprintf("%x", md5.Sum(b)))
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

// assertTruthful: one record and one file of that name, the record READY
// with a hash that describes the file it names.
func assertTruthful(t *testing.T, sim *jamfsim.Server, name string) {
	t.Helper()
	f, ok := sim.Files()[name]
	if !ok {
		t.Fatalf("no file %s: %v", name, sim.Files())
	}
	if err := sim.Converged(name, f.SHA3, f.Length); err != nil {
		t.Fatalf("the record does not describe its file: %v", err)
	}
}

// interruptWithin sends SIGINT to cmd and waits for it to end; past d it
// kills it and fails the test with what it printed. It returns how long
// the process took to end.
func interruptWithin(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		t.Fatalf("still running %s after the interrupt:\n%s", d, stderr)
	}
	return time.Since(start)
}
