package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// A run whose lock holder is stopped (SIGSTOP, a ^Z'd terminal) used to
// wait for ever: the kernel frees the lock only when the holder dies.
// The wait is bounded by jcds2_lock_timeout; the error names the holder,
// that it is stopped, and what to do; nothing is changed (#22).
func TestWaitForAStoppedRunIsBounded(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // both runs' lock directory
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Stopped.pkg", 20<<20, 76)
	env := baseEnv(t, sim, pkg)
	holder, stderr := startHeld(t, sim, env, "UploadPart", 1000)
	defer holder.Process.Kill()
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Signal(syscall.SIGCONT)
	env["jcds2_lock_timeout"] = "2"
	env["RECIPE_CACHE_DIR"] = t.TempDir()
	start := time.Now()
	r := runWith(t, sim, env)
	took := time.Since(start)
	pid := holder.Process.Pid
	want := fmt.Sprintf("ProcessorError: another jcds2-uploader run (pid %d since ", pid)
	wantEnd := fmt.Sprintf(", stopped) was still uploading Stopped.pkg to %s after 2s (jcds2_lock_timeout): nothing was changed; resume it (fg, or kill -CONT %d) or end it (kill %d), then run again", sim.URL, pid, pid)
	if r.code != 10 || !strings.HasPrefix(r.lastLine(), want) || !strings.HasSuffix(r.lastLine(), wantEnd) {
		t.Fatalf("exit %d after %s:\n%s\nwant %q...%q", r.code, took, r.stderr, want, wantEnd)
	}
	if took > 20*time.Second {
		t.Fatalf("gave up after %s with jcds2_lock_timeout 2", took)
	}
	if !strings.Contains(string(r.stderr), "another jcds2-uploader run is uploading Stopped.pkg") {
		t.Fatalf("not told it waited:\n%s", r.stderr)
	}
	// The stopped run, resumed, finishes: the waiting run changed nothing.
	holder.Process.Signal(syscall.SIGCONT)
	sim.ClearFaults()
	if err := holder.Wait(); err != nil {
		t.Fatalf("the resumed run: %v\n%s", err, stderr)
	}
	assertConverged(t, sim, "Stopped.pkg", pkg)
}
