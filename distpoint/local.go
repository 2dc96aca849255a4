package distpoint

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

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
// or a stall, and is checked between writes; ioctx ends on a stall, or
// interruptGrace after an interrupt, and carries the file I/O, so that
// after an interrupt the last write can complete and the temporary file
// can still be closed and removed.
type watchdog struct {
	d     time.Duration
	timer *time.Timer
	stop  func()
}

// withWatchdog starts a watchdog of d under parent. After an interrupt
// the write in flight gets interruptGrace to finish; then ioctx ends
// too, so a stalled share cannot hold the run for the stall timeout, and
// the clean-up runs on interruptCleanup.
func withWatchdog(parent context.Context, d time.Duration) (ctx, ioctx context.Context, w *watchdog) {
	ctx, cancel := context.WithCancelCause(parent)
	ioctx, ioCancel := context.WithCancelCause(context.WithoutCancel(parent))
	w = &watchdog{d: d}
	w.timer = time.AfterFunc(d, func() {
		err := fmt.Errorf("no progress for %s: the server stopped answering", d)
		cancel(err)
		ioCancel(err)
	})
	var mu sync.Mutex
	var grace *time.Timer
	stopGrace := context.AfterFunc(parent, func() {
		mu.Lock()
		defer mu.Unlock()
		grace = time.AfterFunc(interruptGrace, func() {
			ioCancel(fmt.Errorf("interrupted, and the share did not finish the write in flight within %s: %w", interruptGrace, context.Canceled))
		})
	})
	w.stop = func() {
		w.timer.Stop()
		if !stopGrace() {
			mu.Lock()
			if grace != nil {
				grace.Stop()
			}
			mu.Unlock()
		}
		cancel(nil)
		ioCancel(nil)
	}
	return ctx, ioctx, w
}

// interruptGrace is how long the write in flight may take after an
// interrupt; interruptCleanup bounds removing the temporary file then.
// Together they keep an interrupt's exit within seconds even when the
// share stopped answering (the JCDS upload's are 2 s and 5 s).
var (
	interruptGrace   = 2 * time.Second
	interruptCleanup = 5 * time.Second
)

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
