package processor

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/lock"
)

type countingUploader struct{ calls atomic.Int32 }

func (u *countingUploader) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	u.calls.Add(1)
	return &jcds2.Result{PkgName: req.PkgName, Status: "unchanged"}, nil
}

// syncBuilder is a strings.Builder safe to read while a run logs.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuilder) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunWaitsForAnotherRunOfTheSameUpload(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	env := baseEnvFor(t, validPkg(t))
	dir := RunLockDirs("")[0]
	release, err := lock.Acquire(context.Background(), dir, RunLockKey("https://X.jamfcloud.com", "good.PKG"), nil) // case does not matter
	if err != nil {
		t.Fatal(err)
	}
	up := &countingUploader{}
	var out syncBuilder
	done := make(chan error, 1)
	go func() {
		_, err := Process(context.Background(), up, env, NewLogger(&out, 0))
		done <- err
	}()
	want := Name + ": another jcds2-uploader run is uploading Good.pkg to https://x.jamfcloud.com (pid "
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not told it waits: %q", out.String())
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "); waiting…") || up.calls.Load() != 0 {
		t.Fatalf("uploaded while another run held the lock: %d calls, log %q", up.calls.Load(), out.String())
	}
	// Another file name on the same server does not wait.
	other := baseEnvFor(t, validPkg(t))
	other["pkg_name"] = "Other.pkg"
	if _, err := Process(context.Background(), up, other, NewLogger(&out, 0)); err != nil || up.calls.Load() != 1 {
		t.Fatalf("another name: %v, %d calls", err, up.calls.Load())
	}
	// Nor does a dry run.
	dry := baseEnvFor(t, validPkg(t))
	dry["dry_run"] = true
	if _, err := Process(context.Background(), up, dry, NewLogger(&out, 0)); err != nil || up.calls.Load() != 2 {
		t.Fatalf("dry run: %v", err)
	}
	release()
	select {
	case err := <-done:
		if err != nil || up.calls.Load() != 3 {
			t.Fatalf("after release: %v, %d calls", err, up.calls.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting run never went on")
	}
}

func TestInterruptWhileWaitingChangesNothing(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	release, err := lock.Acquire(context.Background(), RunLockDirs("")[0], RunLockKey("https://x.jamfcloud.com", "Good.pkg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	up := &countingUploader{}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var out syncBuilder
	_, err = Process(ctx, up, baseEnvFor(t, validPkg(t)), NewLogger(&out, 0))
	if err == nil || err.Error() != "interrupted while waiting for another jcds2-uploader run to finish uploading Good.pkg to https://x.jamfcloud.com: nothing was changed; run again" || up.calls.Load() != 0 {
		t.Fatalf("got %v, %d uploads", err, up.calls.Load())
	}
}

// A holder that is busy (not stopped) past jcds2_lock_timeout: the run
// stops with nothing changed, naming the wait and the input that sets
// it; the CLI names its flag form (#22).
func TestRunLockWaitIsBounded(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	release, err := lock.Acquire(context.Background(), RunLockDirs("")[0], RunLockKey("https://x.jamfcloud.com", "Good.pkg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	env := baseEnvFor(t, validPkg(t))
	env["jcds2_lock_timeout"] = "1"
	up := &countingUploader{}
	var out syncBuilder
	start := time.Now()
	_, err = Process(context.Background(), up, env, NewLogger(&out, 0))
	want := "another jcds2-uploader run (pid "
	wantEnd := ") was still uploading Good.pkg to https://x.jamfcloud.com after 1s (jcds2_lock_timeout): nothing was changed; let it finish and run again, or give a longer jcds2_lock_timeout"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), wantEnd) || up.calls.Load() != 0 {
		t.Fatalf("%v (%d uploads)", err, up.calls.Load())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("gave up after %s", took)
	}
	env["jcds2_lock_timeout"] = "0"
	if _, err := Process(context.Background(), up, env, NewLogger(&out, 0)); err == nil || !strings.Contains(err.Error(), "jcds2_lock_timeout") {
		t.Fatalf("jcds2_lock_timeout 0: %v", err)
	}
}
