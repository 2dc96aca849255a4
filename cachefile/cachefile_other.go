//go:build !unix

package cachefile

import (
	"fmt"
	"os"
)

func openNoBlock(path string) (*os.File, error) { return os.Open(path) }

func reasonOpen(err error) string { return err.Error() }

func untrusted(st os.FileInfo) string {
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("it is not a regular file (%s)", st.Mode().Type())
	}
	return ""
}

func ownDir(dir string) error { return nil }
