//go:build darwin || linux || freebsd || netbsd || openbsd || dragonfly

package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Acquire takes the lock named by key in dir, waiting while another
// process (or another Acquire in this one: flock is per open file) holds
// it. notify, if not nil, is called once, when Acquire first has to wait,
// with what the holder wrote about itself ("pid 1234 since 15:04:05").
// It returns when the lock is taken, or with ctx's error when ctx ends
// first. release unlocks and removes the lock file; the kernel unlocks
// it too if the process dies.
//
// dir must be a directory of the current user's that nobody else can
// write (it is created 0700 if missing); the lock file is opened without
// following symbolic links.
func Acquire(ctx context.Context, dir, key string, notify func(holderInfo string)) (release func(), err error) {
	return AcquireWithin(ctx, dir, key, 0, notify)
}

// AcquireWithin is Acquire that waits at most limit (0: as long as ctx
// lets it): a holder that is stopped (SIGSTOP, a ^Z'd terminal, a hung
// VM) keeps its lock for ever, since the kernel frees it only when the
// process dies. When limit passes it returns a *WaitError naming the
// holder, and whether the holder is stopped, where that can be seen.
func AcquireWithin(ctx context.Context, dir, key string, limit time.Duration, notify func(holderInfo string)) (release func(), err error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	path := Path(dir, key)
	notified := false
	wait := 0
	start := time.Now()
	var expired <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		expired = t.C
	}
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening the run lock %s: %w", path, err)
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err == nil {
				break
			}
			if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
				f.Close()
				return nil, fmt.Errorf("locking %s: %w", path, err)
			}
			if !notified && notify != nil {
				// The holder writes its line just after it locks: give it
				// a moment rather than report an unknown holder.
				info := holderInfo(f)
				if info != "" || wait >= 2 {
					if info == "" {
						info = "pid unknown"
					}
					notify(info)
					notified = true
				}
			}
			t := time.NewTimer(pollEvery[min(wait, len(pollEvery)-1)])
			wait++
			select {
			case <-ctx.Done():
				t.Stop()
				f.Close()
				return nil, ctx.Err()
			case <-expired:
				t.Stop()
				info := holderInfo(f)
				f.Close()
				return nil, newWaitError(path, info, time.Since(start))
			case <-t.C:
			}
		}
		// Locked; but the holder before us may have removed the file on
		// release, and another run may since hold a new file of the same
		// name. Ours counts only if it is still the one at path.
		if same(f, path) {
			writeInfo(f)
			var once sync.Once
			return func() {
				once.Do(func() {
					os.Remove(path) // while still locked: see above
					f.Close()
				})
			}, nil
		}
		f.Close()
	}
}

func same(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Lstat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func holderInfo(f *os.File) string {
	buf := make([]byte, 200)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return ""
	}
	return strings.TrimSpace(string(buf[:n]))
}

func writeInfo(f *os.File) {
	info := fmt.Sprintf("pid %d since %s\n", os.Getpid(), time.Now().Format("15:04:05"))
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(info), 0)
	}
}

// checkDir makes dir if needed and refuses one that others could write
// to (where they could plant a link or a file in our name).
func checkDir(dir string) error {
	if dir == "" {
		return errors.New("no directory for the run lock")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("making the run lock directory: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("run lock directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("run lock directory %s is not a directory", dir)
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) != os.Geteuid() {
		return fmt.Errorf("run lock directory %s belongs to another user", dir)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("run lock directory %s can be written by others (mode %v)", dir, st.Mode().Perm())
	}
	return nil
}
