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
