package distpoint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/inflight"
)

// An interrupt while the SMB server has stopped answering (SIGSTOP,
// without closing the connection) used to take 148 s to act: the write
// in flight waited for the stall timeout, then the clean-up for its own.
// Now the write gets interruptGrace and the clean-up interruptCleanup,
// and while it is stopped the run's tracker names the temporary file on
// the share as what a second interrupt would leave (#22).
func TestSMBInterruptWhileStalledActsWithinSeconds(t *testing.T) {
	srv := startSamba(t)
	pkg := writePkg(t, t.TempDir(), "I.pkg", 24<<20, 1)
	base, tracker := inflight.With(context.Background())
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	var once sync.Once
	stopped := make(chan struct{})
	log := &testLog{onProgress: func(done, total int64) {
		if done >= total/4 {
			once.Do(func() { srv.Signal(syscall.SIGSTOP); close(stopped) })
		}
	}}
	defer srv.Signal(syscall.SIGCONT)
	var interrupted time.Time
	var during string
	go func() {
		<-stopped
		time.Sleep(300 * time.Millisecond)
		during = tracker.Describe()
		interrupted = time.Now()
		cancel()
	}()
	share := srv.Share("SMB_URL", "pkgs")
	_, err := put(ctx, &ShareDest{Share: share, Log: log, StallTimeout: 120 * time.Second}, pkg)
	took := time.Since(interrupted)
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("interrupted copy: %v", err)
	}
	// 2 s for the write in flight, then at most 5 s each to remove the
	// temporary file and to log off; far from the 120 s stall timeout.
	if took > 15*time.Second {
		t.Fatalf("the interrupt took %s to act", took)
	}
	wantTmp := "the temporary file " + packagesDir + "/" + partialPrefix
	if !strings.Contains(during, wantTmp) || !strings.Contains(during, " on smb://") {
		t.Fatalf("while stalled, the tracker said %q, want the temporary file on the share", during)
	}
	// The server never answered the removal: the error and the tracker
	// both still name the temporary file.
	if !strings.Contains(err.Error(), "could not be removed (the share did not answer within 5s)") || !strings.Contains(tracker.Describe(), wantTmp) {
		t.Fatalf("after: %v; tracker %q", err, tracker.Describe())
	}
	srv.Signal(syscall.SIGCONT)
	if _, err := os.Stat(filepath.Join(srv.Packages("pkgs"), pkg.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the real name exists after an interrupted copy: %v", err)
	}
	t.Logf("acted %s after the interrupt: %v", took.Round(100*time.Millisecond), err)
}
