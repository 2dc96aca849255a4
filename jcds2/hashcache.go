package jcds2

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jcds2-uploader/jcds2-uploader/cachefile"
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
// It is read only when it is ours (see package cachefile): anything else
// at its path is ignored, said once at verbose 1, and replaced at the
// next store when the folder is ours. An entry is a hint about the local
// file only; what the server holds is always looked at.
type hashCache struct {
	path string
	log  Logger
	mu   sync.Mutex
	// seen is each path's stamp when this run first looked at it.
	seen map[string]fileStamp
	said bool // the file's being ignored was logged
}

// The cache file's bounds: an entry is about 250 bytes, so maxEntries
// fit well within maxCacheFile. A larger file is not ours (or a damaged
// one) and costs only a re-hash; the file never grows past them, since
// every store prunes it.
const (
	maxCacheFile = 1 << 20
	maxEntries   = 512
)

func openHashCache(dir string, log Logger) *hashCache {
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(d, "jcds2-uploader")
	}
	if log == nil {
		log = nopLog{}
	}
	return &hashCache{path: filepath.Join(dir, "jcds2-uploader-hashes.json"), log: log, seen: map[string]fileStamp{}}
}

type nopLog struct{}

func (nopLog) Logf(int, string, ...any) {}
func (nopLog) Secret(string)            {}
func (nopLog) Progress(int64, int64)    {}
func (nopLog) Note(Note)                {}

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
	data, err := cachefile.Read(c.path, maxCacheFile)
	if err == nil && data != nil && json.Unmarshal(data, &m) != nil {
		err = errors.New("it is not a hash cache")
	}
	if err != nil {
		if !c.said {
			c.log.Logf(1, "Hash cache: %s; hashing the package instead", strings.TrimPrefix(err.Error(), "ignoring the cache file "))
			c.said = true
		}
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
	prune(m, string(key))
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	if err := cachefile.Write(c.path, data); err != nil {
		c.log.Logf(2, "Hash cache: not saved (%v)", err)
	}
}

// prune keeps the cache small: it forgets the other versions of keep's
// path, then files that are gone or changed, then, past maxEntries, any
// others but keep.
func prune(m map[string]Hashes, keep string) {
	path := stampPath(keep)
	for k := range m {
		if k != keep && stampPath(k) == path {
			delete(m, k)
		}
	}
	if len(m) <= maxEntries/2 {
		return
	}
	for k := range m {
		if k == keep {
			continue
		}
		if now, err := stampOf(stampPath(k)); err != nil || string(now) != k {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= maxEntries {
			break
		}
		if k != keep {
			delete(m, k)
		}
	}
}

// stampPath is the path a stamp is of: what precedes its last three
// fields (a path may itself hold "|").
func stampPath(stamp string) string {
	s := stamp
	for range 3 {
		i := strings.LastIndexByte(s, '|')
		if i < 0 {
			return stamp
		}
		s = s[:i]
	}
	return s
}
