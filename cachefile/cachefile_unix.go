//go:build unix

package cachefile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openNoBlock opens path for reading without following a link and
// without waiting for a writer on a named pipe.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}

func reasonOpen(err error) string {
	if errors.Is(err, syscall.ELOOP) {
		return "it is a symbolic link"
	}
	return err.Error()
}

// untrusted says why a file is not to be believed, or "".
func untrusted(st os.FileInfo) string {
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("it is not a regular file (%s)", kind(st.Mode()))
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) != os.Geteuid() {
		return fmt.Sprintf("it belongs to another user (uid %d)", s.Uid)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("others can write it (mode %v)", st.Mode().Perm())
	}
	return ""
}

// ownDir refuses a folder that belongs to another user.
func ownDir(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) != os.Geteuid() {
		return fmt.Errorf("the folder %s belongs to another user (uid %d): not writing cache files there", dir, s.Uid)
	}
	return nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return m.Type().String()
}
