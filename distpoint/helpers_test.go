package distpoint

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// testLog records what the package logs, and runs onProgress (e.g. to
// interrupt a copy part-way).
type testLog struct {
	mu         sync.Mutex
	lines      []string
	secrets    []string
	progress   [][2]int64
	onProgress func(done, total int64)
}

func (l *testLog) Logf(level int, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *testLog) Secret(v string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.secrets = append(l.secrets, v)
}

func (l *testLog) Progress(done, total int64) {
	l.mu.Lock()
	l.progress = append(l.progress, [2]int64{done, total})
	f := l.onProgress
	l.mu.Unlock()
	if f != nil {
		f(done, total)
	}
}

func (l *testLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// mustNotLeak fails when secret shows up in the log or in any error.
func mustNotLeak(t *testing.T, secret string, l *testLog, errs ...error) {
	t.Helper()
	if strings.Contains(l.text(), secret) {
		t.Errorf("the password is in the log:\n%s", l.text())
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("the password is in an error: %v", err)
		}
	}
}

// Package is a local file to put, as the engine hands one over.
type Package struct{ Path, Name string }

// put puts pkg on d the way the engine does: the file's bytes, its size.
func put(ctx context.Context, d dest.Destination, pkg Package) (dest.Holding, error) {
	f, err := os.Open(pkg.Path)
	if err != nil {
		return dest.Holding{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return dest.Holding{}, err
	}
	return d.Put(ctx, pkg.Name, f, st.Size())
}

// writePkg writes size pseudo-random bytes (seeded) to dir/name.
func writePkg(t *testing.T, dir, name string, size int, seed uint64) Package {
	t.Helper()
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return Package{Path: p, Name: name}
}

// sameFile fails unless the file at got holds the bytes of pkg.
func sameFile(t *testing.T, got string, pkg Package) {
	t.Helper()
	a, err := os.ReadFile(got)
	if err != nil {
		t.Fatalf("reading the copy: %v", err)
	}
	b, _ := os.ReadFile(pkg.Path)
	if !bytes.Equal(a, b) {
		t.Fatalf("%s holds %d bytes that differ from the package's %d", got, len(a), len(b))
	}
}

type fileID struct {
	ino   uint64
	mtime time.Time
}

func idOf(t *testing.T, p string) fileID {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fileID{ino: st.Sys().(*syscall.Stat_t).Ino, mtime: st.ModTime()}
}

// dirNames lists a folder, hidden files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
