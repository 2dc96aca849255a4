package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/lifecycle"
)

// runWithClient runs the binary with CLIENT_ID/CLIENT_SECRET for sim.
func runWithClient(t *testing.T, sim *jamfsim.Server, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CLIENT_ID="+jamfsim.DefaultClientID, "CLIENT_SECRET="+jamfsim.DefaultClientSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// At the scale (5,000 packages, 3,000 policies, 200 patch titles,
// 50 PreStages) behind an edge that answers a fifth concurrent request
// with 429, audit and a dry-run prune of one title finish with at most
// 4 requests in flight, never meet a 429, and show progress. The bench
// (go run ./bench -lifecycle-only) reports their time and request count.
func TestLifecycleAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: seeds 5,000 packages")
	}
	sim := newSim(t, jamfsim.Config{MaxInFlight: 4})
	sc := jamfsim.Scale{Packages: 5000, Policies: 3000, PatchTitles: 200, PreStages: 50}
	prefix, err := sim.SeedRepository(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, log := runWithClient(t, sim, "audit", "--json", "--url", sim.URL)
	var r lifecycle.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Packages != 5000 || r.Files != 5000 || len(r.Titles) != 200 || r.Count(lifecycle.Unused) == 0 || r.Count(lifecycle.MissingFile) != 0 {
		t.Fatalf("audit at scale: %d packages, %d files, %d titles, %d unused", r.Packages, r.Files, len(r.Titles), r.Count(lifecycle.Unused))
	}
	if !strings.Contains(log, "Read 3000 of 3000 policies") {
		t.Errorf("no progress shown:\n%s", log)
	}
	t.Logf("audit: %d requests in %s", len(sim.Log()), time.Since(start).Round(time.Millisecond))
	sim.ResetLog()
	start = time.Now()
	_, log = runWithClient(t, sim, "prune", "--dry-run", "--match", prefix, "--keep", "3", "--url", sim.URL)
	if !strings.Contains(log, `Plan for "Title000-": 25 matching, 3 kept as newest`) {
		t.Fatalf("prune plan:\n%s", log)
	}
	t.Logf("prune --dry-run: %d requests in %s; at most %d in flight", len(sim.Log()), time.Since(start).Round(time.Millisecond), sim.PeakInFlight())
	if p := sim.PeakInFlight(); p > 4 {
		t.Errorf("%d requests in flight at once, want at most 4", p)
	}
	for _, e := range sim.Log() {
		if e.Status == 429 {
			t.Fatalf("a request met 429: %s", e)
		}
	}
}

// An edge that allows only 2 at once: the 429s are answered with
// Retry-After, waited out, and the run still finishes with the right plan.
func TestLifecycleHonoursRetryAfter(t *testing.T) {
	sim := newSim(t, jamfsim.Config{MaxInFlight: 2})
	if _, err := sim.SeedRepository(context.Background(), jamfsim.Scale{Packages: 40, Policies: 40, PatchTitles: 4, PreStages: 2}); err != nil {
		t.Fatal(err)
	}
	// Policies answer slowly, so the reader's 4 at once meet the limit.
	sim.Delay("GET /JSSResource/policies/id/", 30*time.Millisecond, 40)
	_, log := runWithClient(t, sim, "prune", "--dry-run", "--match", "Title001-", "--keep", "3", "--url", sim.URL)
	if !strings.Contains(log, `Plan for "Title001-": 10 matching, 3 kept as newest`) {
		t.Fatalf("prune plan:\n%s", log)
	}
	var limited int
	for _, e := range sim.Log() {
		if e.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("the edge never limited the run: the test proves nothing")
	}
	t.Logf("%d requests answered 429 and retried", limited)
}
