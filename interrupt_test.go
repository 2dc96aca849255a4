package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/inflight"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// Interrupts: the first signal aborts within seconds even while S3
// parts are stalled (the abort on a deadline of its own), a second one
// exits at once, and the message says truthfully what the run left.

func lastStderrLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

func TestInterruptWhilePartsAreStalled(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Stall.pkg", 40<<20, 71)
	// Parts hang (the faults stay on): only the client's own deadline
	// can end them.
	cmd, stderr := startHeld(t, sim, baseEnv(t, sim, pkg), "UploadPart", 1000)
	took := interruptWithin(t, cmd, stderr, 20*time.Second)
	if took > 12*time.Second {
		t.Fatalf("the interrupt took %s; want a few seconds", took)
	}
	if got := lastStderrLine(stderr.String()); got != "ProcessorError: interrupted while uploading to JCDS: the multipart upload was aborted and nothing was changed in Jamf Pro" {
		t.Fatalf("last line: %q", got)
	}
	sim.ClearFaults()
	if open, _ := sim.UnfinishedUploads(context.Background()); len(open) != 0 {
		t.Fatalf("the multipart upload was left open: %v", open)
	}
	if len(sim.Packages()) != 0 {
		t.Fatal("no record may be written")
	}
	t.Logf("exited %s after SIGINT with parts stalled", took.Round(time.Millisecond))
}

func TestSecondInterruptExitsAtOnce(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Twice.pkg", 40<<20, 72)
	cmd, stderr := startHeld(t, sim, baseEnv(t, sim, pkg), "UploadPart", 1000)
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("a second signal must exit at once:\n%s", stderr)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("exited %s after the second signal", took)
	}
	// The run says what it leaves (#22): the upload it had open.
	if got := lastStderrLine(stderr.String()); got != "ProcessorError: interrupted again: exiting at once. Left behind: a multipart upload of Twice.pkg open in S3 (Jamf Pro never lists it): run again to finish" {
		t.Fatalf("last line: %q", got)
	}
	if cmd.ProcessState.ExitCode() != 10 {
		t.Fatalf("exit %d", cmd.ProcessState.ExitCode())
	}
	sim.ClearFaults()
}

// An interrupt while waiting for JCDS to process the upload: the file is
// there, its record not yet; the message says so, and the next plain
// run finishes.
func TestInterruptWhileWaitingForJCDS(t *testing.T) {
	sim := newSim(t, jamfsim.Config{IngestDelay: 3 * time.Second})
	pkg := writePkg(t, t.TempDir(), "Wait.pkg", 2<<20, 73)
	env := baseEnv(t, sim, pkg)
	sim.Pass("GET /api/v1/jcds/files", 1) // the lookup
	cmd, stderr := startHeld(t, sim, env, "GET /api/v1/jcds/files", 1)
	cmd.Process.Signal(syscall.SIGINT)
	sim.ClearFaults()
	cmd.Wait()
	got := lastStderrLine(stderr.String())
	if !strings.HasPrefix(got, "ProcessorError: interrupted") || !strings.Contains(got, "uploaded") || strings.Contains(got, "nothing was changed") {
		t.Fatalf("the message must say the file was uploaded: %q", got)
	}
	// JCDS finishes processing the upload the run did not wait for; then
	// a plain run writes the record for it (and uploads nothing).
	time.Sleep(3 * time.Second)
	env["RECIPE_CACHE_DIR"] = t.TempDir()
	if out := mustRun(t, sim, env); out["pkg_uploaded"] != false {
		t.Fatalf("the file is there already: %v", out)
	}
	assertConverged(t, sim, "Wait.pkg", pkg)
}

// The second interrupt's line says what the run was doing and what it
// leaves, as the run recorded it: a temporary file on a share, not an
// S3 upload and a record (#22). The share's side is tested in
// distpoint (TestSMBInterruptWhileStalledActsWithinSeconds); this is the
// line main prints from it.
func TestSecondInterruptLineSaysWhatIsLeft(t *testing.T) {
	ctx, tr := inflight.With(context.Background())
	if got := secondInterrupt(tr); !strings.Contains(got, "No upload or copy is left half-done") {
		t.Fatalf("nothing recorded: %q", got)
	}
	end := inflight.Step(ctx, "copying Firefox.pkg to smb://dp/share")
	done := inflight.Leave(ctx, "the temporary file Packages/.jcds2-partial-1 on smb://dp/share (a later run deletes it after an hour, or delete it by hand)")
	want := "ProcessorError: interrupted again: exiting at once while copying Firefox.pkg to smb://dp/share. " +
		"Left behind: the temporary file Packages/.jcds2-partial-1 on smb://dp/share (a later run deletes it after an hour, or delete it by hand): run again to finish"
	if got := secondInterrupt(tr); got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	done()
	end()
	if got := secondInterrupt(tr); strings.Contains(got, "temporary file") {
		t.Fatalf("after the clean-up: %q", got)
	}
}

// The abort itself does not get an answer within its deadline: the run
// must not say the upload "was aborted" (#22). It says the abort got no
// answer and that the upload stays open in S3.
func TestInterruptWhoseAbortTimesOutSaysSo(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "NoAbort.pkg", 40<<20, 73)
	sim.Delay("AbortMultipartUpload", time.Minute, 1000)
	cmd, stderr := startHeld(t, sim, baseEnv(t, sim, pkg), "UploadPart", 1000)
	took := interruptWithin(t, cmd, stderr, 30*time.Second)
	want := "ProcessorError: interrupted while uploading to JCDS: the multipart upload could not be aborted (S3 did not answer the abort within 5s): it stays open in S3"
	if got := lastStderrLine(stderr.String()); !strings.HasPrefix(got, want) || strings.Contains(got, "was aborted") {
		t.Fatalf("last line: %q\nwant prefix %q", got, want)
	}
	if cmd.ProcessState.ExitCode() != 10 || took > 15*time.Second {
		t.Fatalf("exit %d after %s", cmd.ProcessState.ExitCode(), took)
	}
	sim.ClearFaults()
	if len(sim.Packages()) != 0 {
		t.Fatal("no record may be written")
	}
}

// An interrupted replace_pkg run that had already deleted the old JCDS
// file used to say "nothing was changed"; it says the old file is gone
// and the record names a file JCDS no longer holds until a run uploads
// it (#22). Then a plain re-run converges on the new bytes.
func TestInterruptedReplaceSaysTheOldFileIsGone(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "Swap.pkg", 20<<20, 74)
	env := baseEnv(t, sim, pkg)
	mustRun(t, sim, env)
	writePkg(t, dir, "Swap.pkg", 40<<20, 75) // new bytes, same name
	env["replace_pkg"] = "True"
	env["RECIPE_CACHE_DIR"] = t.TempDir()
	cmd, stderr := startHeld(t, sim, env, "UploadPart", 1000)
	if _, ok := sim.Files()["Swap.pkg"]; ok {
		t.Fatal("the old file must be gone before the new one's parts are sent")
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 30 s after the interrupt:\n%s", stderr)
	}
	got := lastStderrLine(stderr.String())
	want := "ProcessorError: interrupted while uploading to JCDS: the multipart upload was aborted and no record was changed in Jamf Pro; " +
		"but the old file Swap.pkg had already been deleted from JCDS to make way for the new one, so the package record names a file JCDS no longer holds until a run uploads it: run again"
	if got != want {
		t.Fatalf("last line:\n%q\nwant\n%q", got, want)
	}
	sim.ClearFaults()
	delete(env, "replace_pkg")
	env["RECIPE_CACHE_DIR"] = t.TempDir()
	mustRun(t, sim, env)
	assertConverged(t, sim, "Swap.pkg", pkg)
}

// On the packages route a second interrupt names what is left: the
// record, its file not yet uploaded, not a multipart upload in S3 (#22).
// A plain re-run finishes it.
func TestSecondInterruptOnThePackagesRoute(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Route.pkg", 8<<20, 77)
	env := baseEnv(t, sim, pkg)
	env["pkg_api_mode"] = "True"
	// The first interrupt cuts the upload and deletes the new record:
	// that delete is held, and the second interrupt comes meanwhile.
	deleting := sim.DelayNotify("DELETE /api/v1/packages/1", time.Minute, 1)
	cmd, stderr := startHeld(t, sim, env, "POST /api/v1/packages/1/upload", 1000)
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-deleting:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the record was never deleted:\n%s", stderr)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("a second signal must exit at once:\n%s", stderr)
	}
	want := "ProcessorError: interrupted again: exiting at once. Left behind: the package record Route.pkg (id 1), its file not yet uploaded through the packages API: run again to finish"
	if got := lastStderrLine(stderr.String()); got != want {
		t.Fatalf("last line:\n%q\nwant\n%q", got, want)
	}
	sim.ClearFaults()
	env["RECIPE_CACHE_DIR"] = t.TempDir()
	mustRun(t, sim, env)
	assertConverged(t, sim, "Route.pkg", pkg)
}
