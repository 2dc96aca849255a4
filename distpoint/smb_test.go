package distpoint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// New copy, re-runs that must copy nothing, then replacements, against a
// real smbd on a loopback port named in the URL.
func TestSMBCopyRerunAndReplace(t *testing.T) {
	srv := startSamba(t)
	share := srv.Share("SMB_URL", "pkgs")
	dir := t.TempDir()
	pkg := writePkg(t, dir, "Tool-1.0.pkg", 3<<20+123, 1)
	onDisk := filepath.Join(srv.Packages("pkgs"), pkg.Name)

	log := &testLog{}
	o := one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{Log: log}))
	if o.Status != Copied || o.Bytes != 3<<20+123 || o.Err != nil || o.Input != "SMB_URL" || o.Target != "smb://"+srv.Addr+"/pkgs" {
		t.Fatalf("new copy: %+v", o)
	}
	sameFile(t, onDisk, pkg)
	if names := dirNames(t, srv.Packages("pkgs")); !slices.Equal(names, []string{pkg.Name}) {
		t.Fatalf("Packages holds %v, want only the package (no temporary file)", names)
	}
	if last := log.progress[len(log.progress)-1]; last != [2]int64{o.Bytes, o.Bytes} {
		t.Fatalf("last progress %v, want done = total = %d", last, o.Bytes)
	}
	if !slices.Contains(log.secrets, srv.Password) {
		t.Fatal("the share password was not registered as a secret")
	}
	first := idOf(t, onDisk)

	// Unchanged re-run without replace_pkg: same size, so not even read.
	o = one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{Log: log}))
	if o.Status != SkippedExisting || o.Bytes != 0 {
		t.Fatalf("re-run: %+v", o)
	}
	// With replace_pkg the remote bytes are hashed, found equal, left alone.
	o = one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{Log: log, Replace: true}))
	if o.Status != Unchanged || o.Bytes != 0 {
		t.Fatalf("re-run with replace: %+v", o)
	}
	if idOf(t, onDisk) != first {
		t.Fatal("an unchanged re-run rewrote the file (inode or mtime changed)")
	}

	// Same size, other bytes: replaced only with replace_pkg.
	v2 := writePkg(t, t.TempDir(), pkg.Name, 3<<20+123, 2)
	o = one(t, CopyToShares(context.Background(), []Share{share}, v2, Options{Log: log}))
	if o.Status != SkippedExisting {
		t.Fatalf("same size without replace: %+v", o)
	}
	sameFile(t, onDisk, pkg)
	o = one(t, CopyToShares(context.Background(), []Share{share}, v2, Options{Log: log, Replace: true}))
	if o.Status != Copied {
		t.Fatalf("same size, other bytes, replace: %+v", o)
	}
	sameFile(t, onDisk, v2)
	if idOf(t, onDisk).ino == first.ino {
		t.Fatal("the replacement was written in place, not renamed over the old file")
	}

	// Another size: SkippedDifferent without replace_pkg, copied with it.
	v3 := writePkg(t, t.TempDir(), pkg.Name, 1<<20, 3)
	if o = one(t, CopyToShares(context.Background(), []Share{share}, v3, Options{Log: log})); o.Status != SkippedDifferent {
		t.Fatalf("other size without replace: %+v", o)
	}
	sameFile(t, onDisk, v2)
	if o = one(t, CopyToShares(context.Background(), []Share{share}, v3, Options{Log: log, Replace: true})); o.Status != Copied {
		t.Fatalf("other size with replace: %+v", o)
	}
	sameFile(t, onDisk, v3)
	if names := dirNames(t, srv.Packages("pkgs")); len(names) != 1 {
		t.Fatalf("Packages holds %v after the replacements", names)
	}
	mustNotLeak(t, srv.Password, log, nil)
}

func TestSMBWrongPassword(t *testing.T) {
	srv := startSamba(t)
	share := srv.Share("SMB2_URL", "pkgs")
	share.Password = "not-the-password"
	pkg := writePkg(t, t.TempDir(), "A.pkg", 1000, 1)
	log := &testLog{}
	outs := CopyToShares(context.Background(), []Share{share}, pkg, Options{Log: log})
	o := one(t, outs)
	if o.Status != Failed || o.Err == nil || !strings.Contains(o.Err.Error(), "refused the user name or password: check SMB2_URL's user name and password") {
		t.Fatalf("wrong password: %+v", o)
	}
	if names := dirNames(t, srv.Packages("pkgs")); len(names) != 0 {
		t.Fatalf("Packages holds %v after a failed login", names)
	}
	err := Failures(outs)
	if err == nil || !strings.Contains(err.Error(), "smb://"+srv.Addr+"/pkgs (SMB2_URL)") {
		t.Fatalf("Failures: %v", err)
	}
	mustNotLeak(t, "not-the-password", log, outs)
}

// Two shares, the first one read-only: it fails with a clear reason, the
// second is still written, and Failures names only the first.
func TestSMBOneShareOfTwoFails(t *testing.T) {
	srv := startSamba(t)
	pkg := writePkg(t, t.TempDir(), "B.pkg", 200_000, 1)
	outs := CopyToShares(context.Background(), []Share{srv.Share("SMB_URL", "readonly"), srv.Share("SMB2_URL", "other")}, pkg, Options{})
	if len(outs) != 2 || outs[0].Status != Failed || outs[1].Status != Copied {
		t.Fatalf("outcomes: %v", outs)
	}
	if !strings.Contains(outs[0].Err.Error(), "may not write there") {
		t.Fatalf("read-only share error: %v", outs[0].Err)
	}
	sameFile(t, filepath.Join(srv.Packages("other"), pkg.Name), pkg)
	err := Failures(outs)
	if err == nil || !strings.Contains(err.Error(), "1 of 2") || !strings.Contains(err.Error(), "/readonly (SMB_URL)") || strings.Contains(err.Error(), "/other") {
		t.Fatalf("Failures: %v", err)
	}
	if !AnyCopied(outs) {
		t.Fatal("AnyCopied is false though one share was written")
	}
}

// A share that fills up mid-copy (a 4 MiB tmpfs, a 6 MiB package): a
// clear "full" error, and nothing left behind, not even the temporary file.
func TestSMBShareFillsUp(t *testing.T) {
	srv := startSamba(t)
	srv.mountSmall(4 << 20)
	pkg := writePkg(t, t.TempDir(), "Big.pkg", 6<<20, 1)
	o := one(t, CopyToShares(context.Background(), []Share{srv.Share("SMB_URL", "small")}, pkg, Options{}))
	if o.Status != Failed || !strings.Contains(o.Err.Error(), "the share is full") {
		t.Fatalf("full share: %+v", o)
	}
	t.Logf("full share: %v", o.Err)
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
	o := one(t, CopyToShares(ctx, []Share{srv.Share("SMB_URL", "pkgs")}, pkg, Options{Log: log}))
	if o.Status != Failed || !errors.Is(o.Err, context.Canceled) || !strings.Contains(o.Err.Error(), "interrupted") {
		t.Fatalf("cancelled copy: %+v", o)
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
	share := srv.Share("SMB_URL", "pkgs")
	o := one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{Log: log}))
	if o.Status != Failed {
		t.Fatalf("copy to a dying server: %+v", o)
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
		if !strings.Contains(o.Err.Error(), "could not be removed") {
			t.Fatalf("a temporary file remains but the error does not say so: %v", o.Err)
		}
		old := time.Now().Add(-2 * partialMaxAge)
		os.Chtimes(filepath.Join(packages, n), old, old)
	}
	t.Logf("left behind by the dead server: %v; error: %v", left, o.Err)

	srv.Restart()
	o = one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{Log: log}))
	if o.Status != Copied {
		t.Fatalf("re-run after restart: %+v", o)
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
	o := one(t, CopyToShares(context.Background(), []Share{srv.Share("SMB_URL", "pkgs")}, pkg, Options{Log: log, StallTimeout: 2 * time.Second}))
	if o.Status != Failed || !strings.Contains(o.Err.Error(), "no progress for 2s") {
		t.Fatalf("stalled server: %+v", o)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("giving up took %s", took)
	}
	srv.Signal(syscall.SIGCONT)
	if _, err := os.Stat(filepath.Join(srv.Packages("pkgs"), pkg.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the real name exists after a stalled copy: %v", err)
	}
}
