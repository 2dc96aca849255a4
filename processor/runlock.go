package processor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/lock"
	"github.com/jcds2-uploader/jcds2-uploader/oneline"
)

// RunLockKey names the run lock of an upload: one server, one file name.
// Two runs with the same key on one machine take turns; any others run
// side by side. Case is ignored: JSS_URL's host is, and taking turns
// more often than needed costs only a wait.
func RunLockKey(url, pkgName string) string {
	return strings.ToLower(url) + "\x00" + strings.ToLower(pkgName)
}

// RunLockDirs are where the run lock may live, in order of preference:
// the user's cache directory, which every recipe's run shares (each
// recipe has its own RECIPE_CACHE_DIR, so a lock there would not keep two
// recipes uploading the same file apart); then the recipe's cache; then
// a directory of ours in the temporary directory.
func RunLockDirs(cacheDir string) []string {
	var dirs []string
	if d, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(d, "jcds2-uploader", "locks"))
	}
	if cacheDir != "" {
		dirs = append(dirs, filepath.Join(cacheDir, "jcds2-uploader-locks"))
	}
	return append(dirs, filepath.Join(os.TempDir(), "jcds2-uploader-locks-"+strconv.Itoa(os.Geteuid())))
}

// takeRunLock waits for any other run on this machine uploading the same
// file name to the same server, saying so, and returns the release. The
// wait is bounded by req.LockWait (setting names it): a run that is
// stopped (SIGSTOP, a ^Z'd terminal) holds the lock until it ends, and
// the kernel frees it only then. An interrupt or the limit while waiting
// ends the run with nothing changed. When no directory can hold a lock
// the run goes ahead unlocked, with a warning: the lock guards against a
// rare race and must not stop an upload.
func takeRunLock(ctx context.Context, req *jcds2.Request, log *Logger, setting string) (func(), error) {
	notify := func(holder string) {
		log.Logf(0, "another jcds2-uploader run is uploading %s to %s (%s); waiting…", req.PkgName, req.URL, oneline.Escape(holder))
	}
	var firstErr error
	for _, dir := range RunLockDirs(req.CacheDir) {
		release, err := lock.AcquireWithin(ctx, dir, RunLockKey(req.URL, req.PkgName), req.LockWait, notify)
		if err == nil {
			return release, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while waiting for another jcds2-uploader run to finish uploading %s to %s: nothing was changed; run again", req.PkgName, req.URL)
		}
		var we *lock.WaitError
		if errors.As(err, &we) {
			return nil, lockWaitError(req, we, setting)
		}
		if firstErr == nil {
			firstErr = err
		}
		log.Logf(2, "Run lock in %s: %v", dir, err)
	}
	log.Logf(0, "WARNING: no run lock could be taken (%v): another run uploading %s at the same time would not be waited for.", firstErr, req.PkgName)
	return func() {}, nil
}

// lockWaitError says whom the run waited for, how long, and what to do:
// a stopped run is resumed or ended; a busy one is given more time.
func lockWaitError(req *jcds2.Request, we *lock.WaitError, setting string) error {
	holder := we.Holder
	if holder == "" {
		holder = "pid unknown"
	}
	todo := fmt.Sprintf("let it finish and run again, or give a longer %s", setting)
	if we.State == "stopped" {
		holder += ", stopped"
		todo = fmt.Sprintf("resume it (fg, or kill -CONT %d) or end it (kill %d), then run again", we.PID, we.PID)
	}
	return fmt.Errorf("another jcds2-uploader run (%s) was still uploading %s to %s after %s (%s): nothing was changed; %s",
		oneline.Escape(holder), req.PkgName, req.URL, we.Waited.Round(time.Second), setting, todo)
}
