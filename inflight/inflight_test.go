package inflight

import (
	"context"
	"testing"
)

func TestTracker(t *testing.T) {
	if done := Leave(context.Background(), "x"); done == nil {
		t.Fatal("no tracker: a no-op, never nil")
	}
	ctx, tr := With(context.Background())
	endStep := Step(ctx, "copying to the file shares")
	a := Leave(ctx, "the temporary file A")
	b := Leave(ctx, "the temporary file B")
	if got := tr.Describe(); got != "while copying to the file shares. Left behind: the temporary file A; the temporary file B" {
		t.Fatalf("%q", got)
	}
	a()
	a()
	endStep()
	if got := tr.Describe(); got != "Left behind: the temporary file B" {
		t.Fatalf("%q", got)
	}
	b()
	if got := tr.Describe(); got != "" {
		t.Fatalf("%q", got)
	}
}
