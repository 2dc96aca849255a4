//go:build unix

package jcds2

import (
	"fmt"
	"os"
	"syscall"
)

func fileID(st os.FileInfo) string {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", s.Dev, s.Ino)
	}
	return ""
}
