package jcds2

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// partSource is the package as the multipart uploader reads it: each
// part straight from the file at its offset (io.ReaderAt), so no part is
// copied into a buffer of its own and the memory an upload needs does
// not grow with part size or parts in flight (the uploader's buffered
// path holds part size × (parts in flight + 2)). The MD5 the run checks
// against JCDS's listing comes from one sequential pass of its own,
// beside the parts; the upload may complete only once that pass has
// read the whole file unchanged (hashed), and every part's read ends
// with the file's identity checked, so a file that changes while it is
// sent fails the upload, which is then aborted, never completed torn.
type partSource struct {
	ctx      context.Context
	l        *localFile
	f        *os.File
	partSize int64
	pos      int64 // Read and Seek: the uploader seeks only to learn the size

	stop context.CancelFunc // ends the hash pass
	done chan struct{}      // closed when the hash pass ended
	md5  string
	err  error
}

// parts opens the file for a multipart upload in parts of partSize and
// starts its MD5 pass. Close it when the upload is over.
func (l *localFile) parts(ctx context.Context, partSize int64) (*partSource, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, fmt.Errorf("opening the package: %w", err)
	}
	hashCtx, stop := context.WithCancel(ctx)
	s := &partSource{ctx: ctx, l: l, f: f, partSize: partSize, stop: stop, done: make(chan struct{})}
	go s.hash(hashCtx)
	return s, nil
}

// hash reads the file once, in order, through the reader that fails on
// any change, into MD5: the floor of what a verified upload costs.
func (s *partSource) hash(ctx context.Context) {
	defer close(s.done)
	r, err := s.l.open(nil)
	if err != nil {
		s.err = err
		return
	}
	defer r.Close()
	h := md5.New()
	buf := make([]byte, hashBufSize)
	if _, err := io.CopyBuffer(h, &ctxReader{ctx: ctx, r: r}, buf); err != nil {
		s.err = err
		return
	}
	s.md5 = hex.EncodeToString(h.Sum(nil))
}

// hashed waits for the MD5 pass: nil once it read the whole file
// unchanged. The uploader calls it before completing the upload.
func (s *partSource) hashed(ctx context.Context) error {
	select {
	case <-s.done:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sum is the MD5 of the bytes uploaded, once hashed returned nil.
func (s *partSource) sum() (string, error) {
	<-s.done
	return s.md5, s.err
}

// ReadAt reads a part's bytes. A read that ends a part (or the file)
// checks the file is still the one observed; once ctx ends, reading
// stops, so the uploader aborts.
func (s *partSource) ReadAt(p []byte, off int64) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, fmt.Errorf("upload interrupted: %w", err)
	}
	want := len(p)
	if off+int64(len(p)) > s.l.size {
		p = p[:max(0, s.l.size-off)]
	}
	n, err := s.f.ReadAt(p, off)
	end := off + int64(n)
	if errors.Is(err, io.EOF) && end < s.l.size {
		return n, &ChangedError{Path: s.l.path, What: fmt.Sprintf("it shrank to %d bytes", end)}
	}
	if n > 0 && (end == s.l.size || end%s.partSize == 0) {
		if cerr := s.l.unchanged(); cerr != nil {
			return n, cerr
		}
	}
	if err == nil && n < want {
		err = io.EOF // asked past the end
	}
	return n, err
}

// Read reads in order from the current position (what an uploader that
// does not use ReadAt sees).
func (s *partSource) Read(p []byte) (int, error) {
	if s.pos >= s.l.size {
		return 0, io.EOF
	}
	n, err := s.ReadAt(p, s.pos)
	s.pos += int64(n)
	if err == nil && s.pos >= s.l.size {
		err = io.EOF
	}
	return n, err
}

func (s *partSource) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.l.size
	}
	if offset < 0 {
		return 0, errors.New("seeking before the start of the package")
	}
	s.pos = offset
	return offset, nil
}

// Close ends the MD5 pass, if still running (the upload failed), and
// closes the file.
func (s *partSource) Close() error {
	s.stop()
	<-s.done
	return s.f.Close()
}
