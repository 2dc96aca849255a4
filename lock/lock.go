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
	"path/filepath"
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
