package processor

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// What a person sees while a run waits: on a terminal, the bar's line
// rewritten in place; otherwise a line every few seconds; at verbose 0
// without progress shown (processor mode's default), nothing.
func TestWaitingIsShownWhereProgressIs(t *testing.T) {
	var term bytes.Buffer
	l := NewLogger(&term, 0)
	l.ShowProgress(true)
	l.terminal, l.progressEvery = true, 0
	l.Waiting("JCDS to process the upload", 300*time.Millisecond) // too short to mention
	l.Waiting("JCDS to process the upload", 3*time.Second)
	l.Logf(0, "Uploaded")
	want := "\rJCDS2PackageUploader: waiting for JCDS to process the upload (3s)\x1b[K\nJCDS2PackageUploader: Uploaded\n"
	if term.String() != want {
		t.Fatalf("terminal: %q, want %q", term.String(), want)
	}

	var lines bytes.Buffer
	l = NewLogger(&lines, 0)
	l.ShowProgress(true)
	l.Waiting("Jamf Pro to make the record READY", 2*time.Second) // shorter than a line's interval
	l.Waiting("Jamf Pro to make the record READY", 6*time.Second)
	l.Waiting("Jamf Pro to make the record READY", 7*time.Second) // within the interval of the last line
	if got := lines.String(); got != "JCDS2PackageUploader: waiting for Jamf Pro to make the record READY (6s so far)\n" {
		t.Fatalf("lines: %q", got)
	}

	var quiet bytes.Buffer
	NewLogger(&quiet, 0).Waiting("JCDS to process the upload", time.Minute)
	if quiet.Len() != 0 || strings.Contains(quiet.String(), "waiting") {
		t.Fatalf("verbose 0 without progress: %q", quiet.String())
	}
}
