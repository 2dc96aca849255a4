package jcds2

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// hashCache remembers a file's hashes keyed by path, size, mtime and
// inode, so an unchanged package is never read again.
type hashCache struct {
	path string
	mu   sync.Mutex
}

func openHashCache(dir string) *hashCache {
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(d, "jcds2-uploader")
	}
	return &hashCache{path: filepath.Join(dir, "jcds2-uploader-hashes.json")}
}

func fileKey(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%d|%d|%s", path, st.Size(), st.ModTime().UnixNano(), fileID(st)), nil
}

func (c *hashCache) load() map[string]Hashes {
	m := map[string]Hashes{}
	if data, err := os.ReadFile(c.path); err == nil {
		json.Unmarshal(data, &m)
	}
	return m
}

// Get returns what is known of path's hashes.
func (c *hashCache) Get(path string) Hashes {
	if c == nil {
		return Hashes{}
	}
	key, err := fileKey(path)
	if err != nil {
		return Hashes{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load()[key]
}

// Put merges h into what is known of path; errors only cost a re-hash.
func (c *hashCache) Put(path string, h Hashes) {
	if c == nil || (h.MD5 == "" && h.SHA3 == "") {
		return
	}
	key, err := fileKey(path)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.load()
	old := m[key]
	if h.MD5 == "" {
		h.MD5 = old.MD5
	}
	if h.SHA3 == "" {
		h.SHA3 = old.SHA3
	}
	m[key] = h
	// Keep the file small: forget entries of other versions of this path.
	if len(m) > 200 {
		for k := range m {
			if k != key {
				delete(m, k)
				break
			}
		}
	}
	data, _ := json.Marshal(m)
	if os.MkdirAll(filepath.Dir(c.path), 0o700) != nil {
		return
	}
	tmp := c.path + ".tmp"
	if os.WriteFile(tmp, data, 0o600) == nil {
		os.Rename(tmp, c.path)
	}
}
