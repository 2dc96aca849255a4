package distpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// localPackage is the local file, stat'ed and hashed at most once for
// all destinations.
type localPackage struct {
	pkg Package

	once    sync.Once
	n       int64
	statErr error

	hashOnce sync.Once
	hash     string
	hashErr  error
}

func (l *localPackage) size() (int64, error) {
	l.once.Do(func() {
		st, err := os.Stat(l.pkg.Path)
		switch {
		case err != nil:
			l.statErr = fmt.Errorf("reading the package: %w", err)
		case !st.Mode().IsRegular():
			l.statErr = fmt.Errorf("the package %s is not a regular file: give a flat package (bundles are zipped first)", l.pkg.Path)
		default:
			l.n = st.Size()
		}
	})
	return l.n, l.statErr
}

// open returns the file and the size every destination is checked against.
func (l *localPackage) open() (*os.File, int64, error) {
	size, err := l.size()
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(l.pkg.Path)
	if err != nil {
		return nil, 0, fmt.Errorf("opening the package: %w", err)
	}
	return f, size, nil
}

func (l *localPackage) sha256() (string, error) {
	l.hashOnce.Do(func() {
		if l.pkg.SHA256 != "" {
			l.hash = l.pkg.SHA256
			return
		}
		f, size, err := l.open()
		if err != nil {
			l.hashErr = err
			return
		}
		defer f.Close()
		l.hash, l.hashErr = sha256Hex(io.NewSectionReader(f, 0, size))
		if l.hashErr != nil {
			l.hashErr = fmt.Errorf("hashing the package: %w", l.hashErr)
		}
	})
	return l.hash, l.hashErr
}

func sha256Hex(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, r, make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// progressReader reports progress, keeps the watchdog fed and stops at
// the first read after ctx is cancelled, so an interrupt ends the copy
// between two writes rather than in the middle of one.
type progressReader struct {
	ctx   context.Context
	r     io.Reader
	done  int64
	total int64 // 0: do not report progress
	log   Logger
	dog   *watchdog
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, context.Cause(p.ctx)
	}
	n, err := p.r.Read(b)
	p.done += int64(n)
	if n > 0 {
		p.dog.kick()
		if p.total > 0 {
			p.log.Progress(p.done, p.total)
		}
	}
	return n, err
}

// watchdog ends a destination's work when nobody kicked it for d: a
// share that stops answering would otherwise hang the run until TCP
// gives up. It gives two contexts: ctx ends on the parent's cancellation
// or a stall, and is checked between writes; ioctx ends only on a stall
// and carries the file I/O, so that after an interrupt the last write
// completes and the temporary file can still be closed and removed.
type watchdog struct {
	d     time.Duration
	timer *time.Timer
	stop  func()
}

func withWatchdog(parent context.Context, d time.Duration) (ctx, ioctx context.Context, w *watchdog) {
	ctx, cancel := context.WithCancelCause(parent)
	ioctx, ioCancel := context.WithCancelCause(context.WithoutCancel(parent))
	w = &watchdog{d: d}
	w.timer = time.AfterFunc(d, func() {
		err := fmt.Errorf("no progress for %s: the server stopped answering", d)
		cancel(err)
		ioCancel(err)
	})
	w.stop = func() {
		w.timer.Stop()
		cancel(nil)
		ioCancel(nil)
	}
	return ctx, ioctx, w
}

func (w *watchdog) kick() {
	if w != nil {
		w.timer.Reset(w.d)
	}
}

// exactReader delivers exactly size bytes of r and then reads r once
// more, so that r itself reaches its end (a reader that checks the file
// at EOF, as the engine's does, gets to say it changed) and a source
// with more bytes fails instead of being cut short silently.
type exactReader struct {
	r    io.Reader
	left int64
}

func newExactReader(r io.Reader, size int64) *exactReader { return &exactReader{r: r, left: size} }

func (e *exactReader) Read(b []byte) (int, error) {
	if e.left <= 0 {
		var one [1]byte
		n, err := e.r.Read(one[:])
		switch {
		case n > 0:
			return 0, fmt.Errorf("the package grew while it was copied: rebuild it and run again")
		case err == nil:
			return 0, nil
		}
		return 0, err
	}
	if int64(len(b)) > e.left {
		b = b[:e.left]
	}
	n, err := e.r.Read(b)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("the package shrank while it was copied (%d bytes short): rebuild it and run again", e.left)
	}
	if err == io.EOF {
		err = nil // the extra read above reports the end
	}
	return n, err
}
