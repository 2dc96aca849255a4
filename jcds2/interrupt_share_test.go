package jcds2

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/inflight"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// cancelOnCopy is the share's logger: the first progress of the copy
// notes what the run's tracker says, then interrupts the run.
type cancelOnCopy struct {
	once    sync.Once
	cancel  func()
	tracker *inflight.Tracker
	during  string
}

func (l *cancelOnCopy) Logf(int, string, ...any) {}
func (l *cancelOnCopy) Secret(string)            {}
func (l *cancelOnCopy) Progress(done, total int64) {
	l.once.Do(func() { l.during = l.tracker.Describe(); l.cancel() })
}

// An interrupt while the engine copies to a file share says what was
// doing and what is left (#22, adapted to #19's order, in which the
// shares are destinations inside the engine and Jamf Pro is observed
// first: "nothing was sent to Jamf Pro" no longer describes it). A new
// package: nothing in Jamf Pro, nothing on the share. A replacement:
// the record's stale hash was cleared first, so the message says a
// record was written, and the share keeps the old bytes. Either way the
// tracker named the temporary file while the copy ran, and a plain
// re-run converges.
func TestInterruptWhileCopyingToAShareSaysWhatIsLeft(t *testing.T) {
	for _, replace := range []bool{false, true} {
		sim, err := jamfsim.New(jamfsim.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		pkg := filepath.Join(t.TempDir(), "Int.pkg")
		writeBytes(t, pkg, 1)
		root := t.TempDir()
		packages := filepath.Join(root, "Packages")
		if err := os.Mkdir(packages, 0o755); err != nil {
			t.Fatal(err)
		}
		share := &distpoint.ShareDest{Share: distpoint.Share{Input: "SMB_URL", URL: "file://" + root}}
		req := roundsReq(t, sim, pkg)
		req.Route = RouteElsewhere
		req.Destinations = append(req.Destinations, share)
		if replace {
			if _, err := NewEngine().Upload(context.Background(), req, &lineLog{}); err != nil {
				t.Fatalf("the first version: %v", err)
			}
			writeBytes(t, pkg, 2)
			req.Replace = true
		}
		old, _ := os.ReadFile(filepath.Join(packages, "Int.pkg"))

		base, tracker := inflight.With(context.Background())
		ctx, cancel := context.WithCancel(base)
		cl := &cancelOnCopy{cancel: cancel, tracker: tracker}
		share.Log = cl
		_, err = NewEngine().Upload(ctx, req, &lineLog{})
		cancel()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		t.Logf("replace %v: %s", replace, msg)
		wantStep := "interrupted while copying Int.pkg to file share file://" + root + ": the copy to file share file://" + root + " did not finish ("
		if !strings.HasPrefix(msg, wantStep) || strings.Contains(msg, "nothing was sent to Jamf Pro") {
			t.Fatalf("replace %v: %q", replace, msg)
		}
		if !strings.Contains(cl.during, "Left behind: the temporary file Packages/.jcds2-partial-") || !strings.Contains(cl.during, " on file://"+root) {
			t.Fatalf("replace %v: during the copy the tracker said %q", replace, cl.during)
		}
		if got := tracker.Describe(); got != "" {
			t.Fatalf("replace %v: the temporary file was removed, yet the tracker says %q", replace, got)
		}
		entries, _ := os.ReadDir(packages)
		now, _ := os.ReadFile(filepath.Join(packages, "Int.pkg"))
		switch {
		case !replace && (len(entries) != 0 || !strings.HasSuffix(msg, "; nothing was changed in Jamf Pro") || len(sim.Packages()) != 0):
			t.Fatalf("new: the share holds %d files, Jamf Pro %d records: %q", len(entries), len(sim.Packages()), msg)
		case replace && (len(entries) != 1 || !bytes.Equal(now, old) || !strings.HasSuffix(msg, "; the package record this run wrote is not yet verified: run again to finish")):
			t.Fatalf("replace: the share holds %d files (the old bytes: %v): %q", len(entries), bytes.Equal(now, old), msg)
		}
		for _, p := range sim.Packages() {
			if deref(p.HashValue) != "" {
				t.Fatalf("replace %v: record %s claims a hash while the share holds other bytes", replace, p.ID)
			}
		}

		share.Log = nil
		if _, err := NewEngine().Upload(context.Background(), req, &lineLog{}); err != nil {
			t.Fatalf("replace %v: the re-run: %v", replace, err)
		}
		want, _ := os.ReadFile(pkg)
		if now, _ := os.ReadFile(filepath.Join(packages, "Int.pkg")); !bytes.Equal(now, want) || len(sim.Packages()) != 1 {
			t.Fatalf("replace %v: after the re-run the share holds the local bytes: %v; %d records", replace, bytes.Equal(now, want), len(sim.Packages()))
		}
	}
}
