package distpoint

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Put, look (the stamp), read back, replace and delete against a real
// smbd on a loopback port named in the URL.
func TestSMBShareDest(t *testing.T) {
	ctx := context.Background()
	srv := startSamba(t)
	log := &testLog{}
	d := &ShareDest{Share: srv.Share("SMB_URL", "pkgs"), Log: log}
	if d.String() != "file share smb://"+srv.Addr+"/pkgs" {
		t.Fatalf("String: %s", d)
	}
	pkg := writePkg(t, t.TempDir(), "Tool-1.0.pkg", 3<<20+123, 1)
	onDisk := filepath.Join(srv.Packages("pkgs"), pkg.Name)

	if h, err := d.Observe(ctx, pkg.Name); err != nil || h.Present {
		t.Fatalf("before: %+v %v", h, err)
	}
	h, err := put(ctx, d, pkg)
	if err != nil || h.Size != 3<<20+123 || h.Stamp == "" {
		t.Fatalf("new copy: %+v %v", h, err)
	}
	sameFile(t, onDisk, pkg)
	if names := dirNames(t, srv.Packages("pkgs")); !slices.Equal(names, []string{pkg.Name}) {
		t.Fatalf("Packages holds %v, want only the package (no temporary file)", names)
	}
	if last := log.progress[len(log.progress)-1]; last != [2]int64{h.Size, h.Size} {
		t.Fatalf("last progress %v, want done = total = %d", last, h.Size)
	}
	if !slices.Contains(log.secrets, srv.Password) {
		t.Fatal("the share password was not registered as a secret")
	}
	// Looking again gives the same stamp: the engine then trusts the
	// hashes it computed while copying, and reads nothing back.
	if seen, err := d.Observe(ctx, pkg.Name); err != nil || seen != h {
		t.Fatalf("observe: %+v, put said %+v (%v)", seen, h, err)
	}
	rc, err := d.Open(ctx, pkg.Name)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rc)
	rc.Close()
	if want, _ := os.ReadFile(pkg.Path); !bytes.Equal(back, want) {
		t.Fatal("read back other bytes")
	}

	// Same size, other bytes: a new file renamed into place, a new stamp.
	first := idOf(t, onDisk)
	v2 := writePkg(t, t.TempDir(), pkg.Name, 3<<20+123, 2)
	h2, err := put(ctx, d, v2)
	if err != nil || h2.Stamp == h.Stamp {
		t.Fatalf("replacement: %+v (stamp was %q) %v", h2, h.Stamp, err)
	}
	sameFile(t, onDisk, v2)
	if idOf(t, onDisk).ino == first.ino {
		t.Fatal("the replacement was written in place, not renamed over the old file")
	}
	if err := d.Delete(ctx, pkg.Name); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, srv.Packages("pkgs")); len(names) != 0 {
		t.Fatalf("Packages holds %v after the delete", names)
	}
	mustNotLeak(t, srv.Password, log)
}

func TestSMBWrongPassword(t *testing.T) {
	srv := startSamba(t)
	share := srv.Share("SMB2_URL", "pkgs")
	share.Password = "not-the-password"
	log := &testLog{}
	_, err := (&ShareDest{Share: share, Log: log}).Observe(context.Background(), "A.pkg")
	if err == nil || !strings.Contains(err.Error(), "refused the user name or password: check SMB2_URL's user name and password") {
		t.Fatalf("wrong password: %v", err)
	}
	if names := dirNames(t, srv.Packages("pkgs")); len(names) != 0 {
		t.Fatalf("Packages holds %v after a failed login", names)
	}
	mustNotLeak(t, "not-the-password", log, err)
}

// A read-only share: looking works, writing fails with a clear reason.
func TestSMBReadOnlyShare(t *testing.T) {
	srv := startSamba(t)
	d := &ShareDest{Share: srv.Share("SMB_URL", "readonly")}
	if _, err := d.Observe(context.Background(), "B.pkg"); err != nil {
		t.Fatal(err)
	}
	_, err := put(context.Background(), d, writePkg(t, t.TempDir(), "B.pkg", 200_000, 1))
	if err == nil || !strings.Contains(err.Error(), "may not write there") {
		t.Fatalf("read-only share: %v", err)
	}
}

// A share that fills up mid-copy (a 4 MiB tmpfs, a 6 MiB package): a
// clear "full" error, and nothing left behind, not even the temporary file.
func TestSMBShareFillsUp(t *testing.T) {
	srv := startSamba(t)
	srv.mountSmall(4 << 20)
	pkg := writePkg(t, t.TempDir(), "Big.pkg", 6<<20, 1)
	_, err := put(context.Background(), &ShareDest{Share: srv.Share("SMB_URL", "small")}, pkg)
	if err == nil || !strings.Contains(err.Error(), "the share is full") {
		t.Fatalf("full share: %v", err)
	}
	t.Logf("full share: %v", err)
	if names := dirNames(t, srv.Packages("small")); len(names) != 0 {
		t.Fatalf("Packages holds %v after the share filled up", names)
	}
}

// An interrupt (context cancelled a third of the way) leaves nothing at
// all: no file under the real name, no temporary file.
func TestSMBCancelMidCopy(t *testing.T) {
	srv := startSamba(t)
	pkg := writePkg(t, t.TempDir(), "C.pkg", 12<<20, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &testLog{onProgress: func(done, total int64) {
		if done >= total/3 {
			cancel()
		}
	}}
	_, err := put(ctx, &ShareDest{Share: srv.Share("SMB_URL", "pkgs"), Log: log}, pkg)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("cancelled copy: %v", err)
	}
	if names := dirNames(t, srv.Packages("pkgs")); len(names) != 0 {
		t.Fatalf("Packages holds %v after an interrupted copy", names)
	}
}

// The server dies a third of the way through (SIGKILL to smbd and its
// children): the real name never appears; the temporary file cannot be
// removed from a dead server, and the next run, once it is older than
// partialMaxAge, deletes it and copies the package.
func TestSMBServerDiesMidCopy(t *testing.T) {
	srv := startSamba(t)
	pkg := writePkg(t, t.TempDir(), "D.pkg", 12<<20, 1)
	var once sync.Once
	log := &testLog{onProgress: func(done, total int64) {
		if done >= total/3 {
			once.Do(srv.Kill)
		}
	}}
	d := &ShareDest{Share: srv.Share("SMB_URL", "pkgs"), Log: log}
	_, err := put(context.Background(), d, pkg)
	if err == nil {
		t.Fatal("a copy to a dying server succeeded")
	}
	packages := srv.Packages("pkgs")
	if _, err := os.Stat(filepath.Join(packages, pkg.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the real name exists after the server died mid-copy: %v", err)
	}
	left := dirNames(t, packages)
	for _, n := range left {
		if !strings.HasPrefix(n, partialPrefix) {
			t.Fatalf("unexpected file %s", n)
		}
		if !strings.Contains(err.Error(), "could not be removed") {
			t.Fatalf("a temporary file remains but the error does not say so: %v", err)
		}
		old := time.Now().Add(-2 * partialMaxAge)
		os.Chtimes(filepath.Join(packages, n), old, old)
	}
	t.Logf("left behind by the dead server: %v; error: %v", left, err)

	srv.Restart()
	if _, err := put(context.Background(), d, pkg); err != nil {
		t.Fatalf("re-run after restart: %v", err)
	}
	sameFile(t, filepath.Join(packages, pkg.Name), pkg)
	if names := dirNames(t, packages); !slices.Equal(names, []string{pkg.Name}) {
		t.Fatalf("Packages holds %v after the re-run, want the stale temporary file gone", names)
	}
}

// A server that stops answering (SIGSTOP) without closing the connection
// is given up on after StallTimeout, not after TCP's minutes.
func TestSMBStalledServerTimesOut(t *testing.T) {
	srv := startSamba(t)
	defer func(d time.Duration) { cleanupTimeout = d }(cleanupTimeout)
	cleanupTimeout = time.Second
	pkg := writePkg(t, t.TempDir(), "E.pkg", 24<<20, 1)
	var once sync.Once
	log := &testLog{onProgress: func(done, total int64) {
		if done >= total/4 {
			once.Do(func() { srv.Signal(syscall.SIGSTOP) })
		}
	}}
	defer srv.Signal(syscall.SIGCONT)
	start := time.Now()
	_, err := put(context.Background(), &ShareDest{Share: srv.Share("SMB_URL", "pkgs"), Log: log, StallTimeout: 2 * time.Second}, pkg)
	if err == nil || !strings.Contains(err.Error(), "no progress for 2s") {
		t.Fatalf("stalled server: %v", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("giving up took %s", took)
	}
	srv.Signal(syscall.SIGCONT)
	if _, err := os.Stat(filepath.Join(srv.Packages("pkgs"), pkg.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the real name exists after a stalled copy: %v", err)
	}
}
