//go:build darwin || linux || freebsd || netbsd || openbsd || dragonfly

package lock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Goroutines contend as processes do: flock is per open file.
func TestOneHolderAtATime(t *testing.T) {
	dir := t.TempDir()
	var inside, most, turns atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 15 {
				release, err := Acquire(context.Background(), dir, "https://jamf.example.com\x00App.pkg", nil)
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				turns.Add(1)
				release()
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 || turns.Load() != 90 {
		t.Fatalf("at most %d holders at once (want 1), %d turns", most.Load(), turns.Load())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("lock files left after release: %v", left)
	}
}

func TestWaiterIsToldWhoHoldsItAndHonoursCancel(t *testing.T) {
	dir := t.TempDir()
	release, err := Acquire(context.Background(), dir, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Acquire(ctx, dir, "k", func(info string) { told = append(told, info) })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("want the deadline, got %v after %s", err, time.Since(start))
	}
	if len(told) != 1 || !strings.HasPrefix(told[0], fmt.Sprintf("pid %d since ", os.Getpid())) {
		t.Fatalf("notify: %q", told)
	}
	// Another key is another lock.
	r2, err := Acquire(context.Background(), dir, "other", func(string) { t.Error("other keys do not contend") })
	if err != nil {
		t.Fatal(err)
	}
	r2()
	// Released, the waiter gets it at once.
	done := make(chan error, 1)
	go func() {
		r, err := Acquire(context.Background(), dir, "k", nil)
		if err == nil {
			r()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	release()
	release() // twice is harmless
	awaitLock(t, done, 5*time.Second, "the waiter never got the lock")
}

// awaitLock waits for a waiter's Acquire to return: it must succeed
// within d, or the test fails with what it waited for.
func awaitLock(t *testing.T, got <-chan error, d time.Duration, what string) {
	t.Helper()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(d):
		t.Fatal(what)
	}
}

// TestHelperHoldLock is the other process of the next test.
func TestHelperHoldLock(t *testing.T) {
	spec := os.Getenv("LOCK_HELPER")
	if spec == "" {
		t.Skip("only run by TestLockHeldByAnotherProcess")
	}
	dir, key, _ := strings.Cut(spec, "|")
	if _, err := Acquire(context.Background(), dir, key, nil); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// startHolder starts TestHelperHoldLock in another process, holding the
// lock "key" in dir, and returns once it has it; the process is killed
// when the test ends.
func startHolder(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), "LOCK_HELPER="+dir+"|key")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}
	return cmd
}

// Another process holds the lock: the waiter is told its pid and waits;
// when the holder is killed (SIGKILL: no release runs) the kernel frees
// the lock and the waiter gets it.
func TestLockHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := startHolder(t, dir)
	told := make(chan string, 1)
	got := make(chan error, 1)
	go func() {
		release, err := Acquire(context.Background(), dir, "key", func(info string) { told <- info })
		if err == nil {
			release()
		}
		got <- err
	}()
	select {
	case info := <-told:
		if !strings.HasPrefix(info, fmt.Sprintf("pid %d since ", cmd.Process.Pid)) {
			t.Fatalf("told %q, want the helper's pid %d", info, cmd.Process.Pid)
		}
	case err := <-got:
		t.Fatalf("took a lock another process holds: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("never told")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	awaitLock(t, got, 10*time.Second, "the lock of a killed process was not freed")
}

func TestLockDirectoryMustBeOurs(t *testing.T) {
	open := filepath.Join(t.TempDir(), "shared")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	if _, err := Acquire(context.Background(), open, "k", nil); err == nil || !strings.Contains(err.Error(), "can be written by others") {
		t.Fatalf("world-writable directory: %v", err)
	}
	// A link planted where the lock file goes is not followed.
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	os.Symlink(victim, Path(dir, "k"))
	if _, err := Acquire(context.Background(), dir, "k", nil); err == nil {
		t.Fatal("followed a planted link")
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Fatal("the link's target was written")
	}
	if _, err := Acquire(context.Background(), "", "k", nil); err == nil {
		t.Fatal("no directory accepted")
	}
}

// A stopped holder (SIGSTOP, a ^Z'd terminal) keeps its lock for ever:
// the kernel frees it only when the process dies. AcquireWithin gives up
// when its limit passes, naming the holder and that it is stopped.
func TestWaitForAStoppedHolderIsBounded(t *testing.T) {
	dir := t.TempDir()
	cmd := startHolder(t, dir)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Signal(syscall.SIGCONT)
	start := time.Now()
	release, err := AcquireWithin(context.Background(), dir, "key", 700*time.Millisecond, nil)
	if err == nil {
		release()
		t.Fatal("took a lock a stopped process holds")
	}
	took := time.Since(start)
	var we *WaitError
	if !errors.As(err, &we) || we.PID != cmd.Process.Pid || took < 700*time.Millisecond || took > 5*time.Second {
		t.Fatalf("after %s: %v", took, err)
	}
	want := fmt.Sprintf("the run lock %s was still held after 1s (pid %d since ", Path(dir, "key"), cmd.Process.Pid)
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("%q, want prefix %q", err, want)
	}
	if _, statErr := os.Stat("/proc/self/stat"); statErr == nil && !strings.HasSuffix(err.Error(), ", stopped)") {
		t.Fatalf("%q does not say the holder is stopped", err)
	}
}
