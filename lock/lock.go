// Package lock is a per-machine run lock: two jcds2-uploader runs on one
// machine that upload the same file name to the same server take turns,
// so they never race each other's upload, duplicate cleanup or record
// update. The lock is an flock(2) on a file in a directory of the user's
// (the cache): the kernel releases it when the process dies, however it
// dies, so there is never a stale lock to clear by hand.
package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the lock file for key in a lock directory: a hash, so any
// key (a URL, a file name) makes a short, safe name.
func FileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "jcds2-uploader-" + hex.EncodeToString(sum[:12]) + ".lock"
}

// Path is the lock file for key in dir.
func Path(dir, key string) string { return filepath.Join(dir, FileName(key)) }

// pollEvery is how often a waiting run tries the lock again (flock
// cannot wait and watch a context at once).
var pollEvery = []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond}

// WaitError: the lock was still held when the wait's limit passed.
type WaitError struct {
	Path   string
	Holder string        // what the holder wrote: "pid 1234 since 15:04:05"
	PID    int           // 0 when unknown
	State  string        // "stopped" when the holder is seen to be stopped, else ""
	Waited time.Duration // how long Acquire waited
}

func (e *WaitError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "pid unknown"
	}
	if e.State != "" {
		holder += ", " + e.State
	}
	return fmt.Sprintf("the run lock %s was still held after %s (%s)", e.Path, e.Waited.Round(time.Second), holder)
}

func newWaitError(path, info string, waited time.Duration) *WaitError {
	e := &WaitError{Path: path, Holder: info, Waited: waited}
	var pid int
	if _, err := fmt.Sscanf(info, "pid %d", &pid); err == nil && pid > 0 {
		e.PID = pid
		e.State = processState(pid)
	}
	return e
}

// processState reads a process's state where the system shows it
// (Linux's /proc): "stopped" for a stopped or traced process, else "".
func processState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold spaces and parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	switch s[i+2] {
	case 'T', 't':
		return "stopped"
	}
	return ""
}
