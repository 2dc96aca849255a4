//go:build unix

package cachefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each thing that can sit at a cache file's path in a shared folder:
// only a regular file of ours, not writable by others, of a sane size, is
// read; anything else is ignored at once, saying why.
func TestOnlyOurRegularFilesAreRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"a":1}`), 0o600)
	if data, err := Read(good, 100); err != nil || string(data) != `{"a":1}` {
		t.Fatalf("our own file: %q %v", data, err)
	}
	if data, err := Read(filepath.Join(dir, "missing"), 100); data != nil || err != nil {
		t.Fatalf("a missing file: %q %v", data, err)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	groupWritable := filepath.Join(dir, "gw")
	os.WriteFile(groupWritable, []byte("{}"), 0o600)
	os.Chmod(groupWritable, 0o620)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 101), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(good, link)
	folder := filepath.Join(dir, "folder")
	os.Mkdir(folder, 0o700)
	cases := map[string]string{
		fifo:          "it is not a regular file (a named pipe)",
		groupWritable: "others can write it (mode -rw--w----)",
		big:           "it holds 101 bytes, more than the 100",
		link:          "it is a symbolic link",
		folder:        "it is not a regular file (a folder)",
	}
	if os.Geteuid() == 0 {
		foreign := filepath.Join(dir, "foreign")
		os.WriteFile(foreign, []byte("{}"), 0o600)
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases[foreign] = "it belongs to another user (uid 65534)"
	} else {
		t.Log("not root: a file of another user cannot be made here; that case runs in CI as root")
	}
	for path, want := range cases {
		start := time.Now()
		data, err := Read(path, 100)
		var ie *IgnoredError
		if data != nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q %v, want ignored: %s", filepath.Base(path), data, err, want)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: took %s", filepath.Base(path), took)
		}
	}
}

// Write replaces whatever is at the path (a pipe, a planted link) with
// a 0600 file, and writes nothing into a folder of another user.
func TestWriteReplacesAndRespectsTheFolder(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "c.json")
	syscall.Mkfifo(fifo, 0o600)
	if err := Write(fifo, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if data, err := Read(fifo, 100); err != nil || string(data) != "new" {
		t.Fatalf("after replacing the pipe: %q %v", data, err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "l.json")
	os.Symlink(victim, link)
	if err := Write(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Fatal("the link's target was written")
	}
	if st, _ := os.Lstat(link); !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("the link was not replaced by a 0600 file: %v", st.Mode())
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(t.TempDir(), "theirs")
		os.Mkdir(theirs, 0o777)
		os.Chown(theirs, 65534, 65534)
		if err := Write(filepath.Join(theirs, "c.json"), []byte("x")); err == nil || !strings.Contains(err.Error(), "belongs to another user") {
			t.Fatalf("wrote into another user's folder: %v", err)
		}
		if es, _ := os.ReadDir(theirs); len(es) != 0 {
			t.Fatalf("files left in another user's folder: %v", es)
		}
	}
}
