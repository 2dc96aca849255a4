package jcds2

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// partSource: parts read at their offsets are the file's bytes, the MD5
// pass is the file's MD5, and a change to the file fails both the part
// that reads past it and the pass the upload's completion waits for.

func partFile(t *testing.T, size int) (*localFile, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{7}).Read(data)
	dir := t.TempDir()
	p := filepath.Join(dir, "Parts.pkg")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return &localFile{path: p, size: st.Size(), ident: identity(st), cache: openHashCache(dir)}, data
}

func TestPartSourceReadsPartsAtTheirOffsets(t *testing.T) {
	const part = 1 << 20
	l, data := partFile(t, 3*part+12345)
	s, err := l.parts(context.Background(), part)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The last part first, as parallel parts may be read.
	for _, off := range []int64{3 * part, part, 0, 2 * part} {
		n := min(part, int64(len(data))-off)
		got, err := io.ReadAll(io.NewSectionReader(s, off, n))
		if err != nil || !bytes.Equal(got, data[off:off+n]) {
			t.Fatalf("part at %d: %d bytes, %v", off, len(got), err)
		}
	}
	if err := s.hashed(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := s.sum()
	want := md5.Sum(data)
	if err != nil || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("MD5 %s, %v; want %x", sum, err, want)
	}
	// Read, for an uploader that reads in order.
	s.Seek(0, io.SeekStart)
	if got, err := io.ReadAll(s); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Read: %d bytes, %v", len(got), err)
	}
}

func TestPartSourceFailsOnAChangedFile(t *testing.T) {
	const part = 1 << 20
	l, _ := partFile(t, 2*part)
	s, err := l.parts(context.Background(), part)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := io.ReadAll(io.NewSectionReader(s, 0, part)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(l.path, part+100); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(io.NewSectionReader(s, part, part))
	var changed *ChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("reading the second part of a shrunk file: %v, want a ChangedError", err)
	}
	// The MD5 pass, which the upload's completion waits for, fails too
	// (or had ended before the change: then the parts' checks stand).
	if err := s.hashed(context.Background()); err != nil && !errors.As(err, &changed) {
		t.Fatalf("hash pass: %v", err)
	}
}

func TestPartSourceStopsWhenCancelled(t *testing.T) {
	l, _ := partFile(t, 2<<20)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := l.parts(ctx, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancel()
	if _, err := s.ReadAt(make([]byte, 10), 0); err == nil {
		t.Fatal("read after the context ended")
	}
}
