package jcds2

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// hashCache remembers a file's hashes keyed by path, size, mtime and
// inode, so an unchanged package is never read again.
//
// A hash goes into the cache only when it describes the file as it is
// now: a file that changed while it was read, or since this run first
// looked at it (Get), is never cached, since the next run would take the
// stale hash for the new bytes and skip an upload it needs.
//   - HashAndPut hashes and caches in one step, comparing the stamp
//     (size, mtime, inode) before and after.
//   - stampOf, then PutIfUnchanged, for a hash computed elsewhere (while
//     uploading): cached only if the stamp taken before reading still holds.
//   - Put refuses a path whose stamp differs from the one Get saw.
//
// The cache file is written to a temporary file and renamed, mode 0600.
type hashCache struct {
	path string
	mu   sync.Mutex
	// seen is each path's stamp when this run first looked at it.
	seen map[string]fileStamp
}

// maxCacheFile bounds what is read of the cache file: a damaged or
// foreign file only costs a re-hash.
const maxCacheFile = 16 << 20

func openHashCache(dir string) *hashCache {
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(d, "jcds2-uploader")
	}
	return &hashCache{path: filepath.Join(dir, "jcds2-uploader-hashes.json"), seen: map[string]fileStamp{}}
}

// fileStamp identifies one version of a file: path, size, mtime, inode.
type fileStamp string

func stampFrom(path string, st os.FileInfo) fileStamp {
	return fileStamp(fmt.Sprintf("%s|%d|%d|%s", path, st.Size(), st.ModTime().UnixNano(), fileID(st)))
}

// stampOf returns path's stamp now.
func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return stampFrom(path, st), nil
}

func (c *hashCache) load() map[string]Hashes {
	m := map[string]Hashes{}
	f, err := os.Open(c.path)
	if err != nil {
		return m
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil || len(data) > maxCacheFile || json.Unmarshal(data, &m) != nil {
		return map[string]Hashes{}
	}
	return m
}

// Get returns what is known of path's hashes, and remembers the stamp
// it saw.
func (c *hashCache) Get(path string) Hashes {
	if c == nil {
		return Hashes{}
	}
	key, err := stampOf(path)
	if err != nil {
		return Hashes{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[path]; !ok {
		c.seen[path] = key
	}
	return c.load()[string(key)]
}

// Put merges h into what is known of path, unless path is no longer the
// version Get saw. Errors only cost a re-hash.
func (c *hashCache) Put(path string, h Hashes) { c.put(path, h, false) }

// put stores h under path's stamp now. own: this run has just written
// the file itself (a bundle's zip), so an earlier version Get saw no
// longer counts; otherwise a file that changed since Get is refused, as
// the hash may be of either version.
func (c *hashCache) put(path string, h Hashes, own bool) {
	if c == nil {
		return
	}
	key, err := stampOf(path)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.seen[path]; ok && s != key && !own {
		return
	}
	c.seen[path] = key
	c.storeLocked(key, h)
}

// PutIfUnchanged caches h, computed from path's bytes read after before
// was taken, only if path still has that stamp. It reports whether it did.
func (c *hashCache) PutIfUnchanged(path string, before fileStamp, h Hashes) bool {
	if c == nil {
		return false
	}
	now, err := stampOf(path)
	if err != nil || now != before {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.seen[path]; ok && s != now {
		return false
	}
	c.storeLocked(now, h)
	return true
}

// HashAndPut hashes path (the wanted hashes only) and caches the result
// when the file was stable throughout: HashFile fails on a file that
// changed while it was read, and the stamp is compared again here.
func (c *hashCache) HashAndPut(path string, wantMD5, wantSHA3 bool) (Hashes, error) {
	before, err := stampOf(path)
	if err != nil {
		return Hashes{}, fmt.Errorf("hashing %s: %w", path, err)
	}
	h, err := HashFile(path, wantMD5, wantSHA3)
	if err != nil {
		return Hashes{}, err
	}
	if !c.PutIfUnchanged(path, before, h) {
		if now, err := stampOf(path); err != nil || now != before {
			return Hashes{}, &ChangedError{Path: path}
		}
	}
	return h, nil
}

func (c *hashCache) storeLocked(key fileStamp, h Hashes) {
	h.MD5, h.SHA3 = strings.ToLower(h.MD5), strings.ToLower(h.SHA3)
	if h.MD5 == "" && h.SHA3 == "" {
		return
	}
	m := c.load()
	old := m[string(key)]
	if h.MD5 == "" {
		h.MD5 = old.MD5
	}
	if h.SHA3 == "" {
		h.SHA3 = old.SHA3
	}
	m[string(key)] = h
	// Keep the file small: forget entries of other versions of this path.
	if len(m) > 200 {
		for k := range m {
			if k != string(key) {
				delete(m, k)
				break
			}
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	c.writeLocked(data)
}

// writeLocked replaces the cache file atomically: a temporary file in
// the same directory, 0600, renamed over it. A concurrent run reads
// either the old file or the new one, never half of one.
func (c *hashCache) writeLocked(data []byte) {
	dir := filepath.Dir(c.path)
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".jcds2-uploader-hashes-*.tmp")
	if err != nil {
		return
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}
