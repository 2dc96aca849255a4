// Package cachefile reads and writes this tool's cache files (the hash
// cache, the token cache) only when they are ours. A cache directory can
// be shared (a CI runner's RECIPE_CACHE_DIR, a home directory others can
// write): whatever sits at a cache file's path is read only when it is a
// regular file owned by the running user, that no one else can write,
// of a sane size. Anything else (a named pipe that would block the first
// read for ever, another user's planted token, a file of 16 MB) is
// ignored, and the reason given back for a verbose line; it is replaced
// only when the folder is ours too.
//
// A cache is a hint: a caller still checks what the server shows.
package cachefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IgnoredError says why the file at Path was not used.
type IgnoredError struct {
	Path   string
	Reason string
}

func (e *IgnoredError) Error() string {
	return fmt.Sprintf("ignoring the cache file %s: %s", e.Path, e.Reason)
}

// Read returns the content of the cache file at path, or (nil, nil)
// when there is none. It never blocks on a named pipe or device and
// never follows a symbolic link. A file that is not ours, or larger than
// limit bytes, is an *IgnoredError.
func Read(path string, limit int64) ([]byte, error) {
	f, err := openNoBlock(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &IgnoredError{Path: path, Reason: reasonOpen(err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &IgnoredError{Path: path, Reason: err.Error()}
	}
	if reason := untrusted(st); reason != "" {
		return nil, &IgnoredError{Path: path, Reason: reason}
	}
	if st.Size() > limit {
		return nil, &IgnoredError{Path: path, Reason: fmt.Sprintf("it holds %d bytes, more than the %d a cache file of ours ever does", st.Size(), limit)}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &IgnoredError{Path: path, Reason: err.Error()}
	}
	if int64(len(data)) > limit {
		return nil, &IgnoredError{Path: path, Reason: fmt.Sprintf("it grew past %d bytes while it was read", limit)}
	}
	return data, nil
}

// Write replaces the cache file at path with data, mode 0600: a new
// temporary file in the same folder, renamed over path, so a reader sees
// the old file or the new one, never half of one, and a link planted at
// path is replaced, not followed. The folder is made (0700) if missing;
// one that belongs to another user is left alone (an error).
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := ownDir(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Remove deletes the cache file at path when the folder is ours.
func Remove(path string) {
	if ownDir(filepath.Dir(path)) == nil {
		os.Remove(path)
	}
}
