package distpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint/sambatest"
)

// sambaServer is sambatest's smbd with the shares as this package
// configures them.
type sambaServer struct {
	*sambatest.Server
	t *testing.T
}

func startSamba(t *testing.T) *sambaServer {
	t.Helper()
	return &sambaServer{Server: sambatest.Start(t), t: t}
}

func (s *sambaServer) Share(input, name string) Share {
	return Share{Input: input, URL: s.URL(name), Username: s.User, Password: s.Password}
}

// mountSmall puts a tmpfs of size bytes, holding an empty Packages
// folder, under the "small" share: a share that fills up. It skips when
// the test may not mount (no root, no CAP_SYS_ADMIN).
func (s *sambaServer) mountSmall(size int) {
	s.t.Helper()
	dir := filepath.Join(s.Root, "small")
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		s.t.Skipf("cannot mount a tmpfs for the full-share case (%v); it needs root", err)
	}
	s.t.Cleanup(func() {
		s.Kill() // smbd may hold the mount busy
		syscall.Unmount(dir, syscall.MNT_DETACH)
	})
	if err := os.Mkdir(filepath.Join(dir, "Packages"), 0o755); err != nil {
		s.t.Fatal(err)
	}
}
