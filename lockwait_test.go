package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/lock"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
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

// Two processes, one upload: while another process (this test) holds the
// run lock for the same server and file name, the binary says who holds
// it and waits, making no request; it goes on when the lock is released,
// and an interrupt while it waits ends in one line with nothing changed.
func TestSecondRunWaitsForTheFirst(t *testing.T) {
	cacheHome := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheHome) // the child inherits both
	t.Setenv("HOME", cacheHome)
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Lock.pkg", 1<<20, 9)
	dir := processor.RunLockDirs("")[0]
	key := processor.RunLockKey(sim.URL, "Lock.pkg")
	wantWait := fmt.Sprintf("JCDS2PackageUploader: another jcds2-uploader run is uploading Lock.pkg to %s (pid %d since ", sim.URL, os.Getpid())

	start := func() (*exec.Cmd, *syncBuffer) {
		cmd, _ := processCmd(sim, baseEnv(t, sim, pkg))
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), wantWait); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the second run did not say it waits:\n%s", stderr.String())
			}
		}
		time.Sleep(200 * time.Millisecond)
		if log := sim.Log(); len(log) != 0 {
			t.Fatalf("requests while waiting: %v", log)
		}
		return cmd, &stderr
	}

	release, err := lock.Acquire(context.Background(), dir, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd, stderr := start()
	release()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after the lock was released: %v\n%s", err, stderr.String())
	}
	assertConverged(t, sim, "Lock.pkg", pkg)

	sim.ResetLog()
	release, err = lock.Acquire(context.Background(), dir, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cmd, stderr = start()
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	want := "ProcessorError: interrupted while waiting for another jcds2-uploader run to finish uploading Lock.pkg to " + sim.URL + ": nothing was changed; run again"
	if !ok || ee.ExitCode() != 10 || lines[len(lines)-1] != want || len(lines) != 2 {
		t.Fatalf("interrupted while waiting: %v\n%s", err, stderr.String())
	}
	if log := sim.Log(); len(log) != 0 {
		t.Fatalf("requests after an interrupt while waiting: %v", log)
	}
}

// syncBuffer is a bytes.Buffer a test can read while a process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
