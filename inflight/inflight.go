// Package inflight keeps, for a run that may be stopped at once (a
// second Ctrl-C), what it is doing and what it would leave behind right
// now: the temporary file on a share, the multipart upload open in S3.
// The command's signal handler prints it, so the last line says what
// actually is left, not what usually is.
//
// The tracker travels in the context; without one every call is a
// no-op, so libraries can report unconditionally.
package inflight

import (
	"context"
	"strings"
	"sync"
)

// Tracker holds the current step and the leftovers.
type Tracker struct {
	mu    sync.Mutex
	step  string
	next  int
	items map[int]string
}

type key struct{}

// With returns ctx carrying a new tracker, and the tracker.
func With(ctx context.Context) (context.Context, *Tracker) {
	t := &Tracker{items: map[int]string{}}
	return context.WithValue(ctx, key{}, t), t
}

func from(ctx context.Context) *Tracker {
	t, _ := ctx.Value(key{}).(*Tracker)
	return t
}

// Step says what the run is doing ("copying Firefox.pkg to
// smb://dp/share"); done puts back the step before it.
func Step(ctx context.Context, what string) (done func()) {
	t := from(ctx)
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	prev := t.step
	t.step = what
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		t.step = prev
		t.mu.Unlock()
	}
}

// Leave records something the run would leave behind if it stopped
// now; done says it no longer would (it was finished or cleaned up).
func Leave(ctx context.Context, what string) (done func()) {
	t := from(ctx)
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	id := t.next
	t.next++
	t.items[id] = what
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			delete(t.items, id)
			t.mu.Unlock()
		})
	}
}

// Now returns the current step and the leftovers, in the order they
// were recorded.
func (t *Tracker) Now() (step string, leftovers []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id := range t.next {
		if it, ok := t.items[id]; ok {
			leftovers = append(leftovers, it)
		}
	}
	return t.step, leftovers
}

// Describe is Now as one sentence, or "" when nothing is known.
func (t *Tracker) Describe() string {
	step, left := t.Now()
	var b strings.Builder
	if step != "" {
		b.WriteString("while " + step)
	}
	if len(left) > 0 {
		if b.Len() > 0 {
			b.WriteString(". ")
		}
		b.WriteString("Left behind: " + strings.Join(left, "; "))
	}
	return b.String()
}
