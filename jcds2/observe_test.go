package jcds2

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// jamfRequests is the simulator's log of Jamf Pro requests, without
// queries.
func jamfRequests(sim *jamfsim.Server) []string {
	var out []string
	for _, e := range sim.Log() {
		path, _, _ := strings.Cut(e.Path, "?")
		out = append(out, e.Method+" "+path)
	}
	return out
}

// The first look's reads go at once: the JCDS listing and the record
// lookup are answered while the version request is still held by the
// simulator, which one after another they could not be. No timing is
// asserted: the test waits (up to a minute) for the two answers to be
// in the simulator's log, then lets the version go.
func TestObserveReadsAtOnce(t *testing.T) {
	sim := roundsSim(t)
	pkg := filepath.Join(t.TempDir(), "AtOnce.pkg")
	writeBytes(t, pkg, 3)
	held := sim.DelayNotify("GET /api/v1/jamf-pro-version", 10*time.Minute, 1)
	req := roundsReq(t, sim, pkg)
	req.Timeout = 10 * time.Minute // the held request is not given up on while the test looks

	done := uploadAsync(context.Background(), req)
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the run ended before asking the version: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the version was never asked")
	}
	want := []string{"GET /api/v1/jcds/files", "GET /api/v1/packages", "POST /api/v1/oauth/token"} // sorted
	var got []string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = jamfRequests(sim)
		slices.Sort(got)
		if slices.Equal(got, want) {
			break
		}
	}
	sim.ClearFaults() // the version goes on
	if !slices.Equal(got, want) {
		t.Fatalf("while the version was held, Jamf Pro answered %v; want %v", got, want)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	converged(t, sim, pkg)
}

// The requests of a new upload and of an unchanged re-run. The new
// upload's second look takes the listing the wait for the upload ended
// on, and does not list again.
func TestObserveRequests(t *testing.T) {
	sim := roundsSim(t)
	pkg := filepath.Join(t.TempDir(), "Counted.pkg")
	writeBytes(t, pkg, 4)
	req := roundsReq(t, sim, pkg)
	res, err := NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "uploaded, verified" {
		t.Fatalf("new upload: %+v %v", res, err)
	}
	converged(t, sim, pkg)
	got := jamfRequests(sim)
	slices.Sort(got[1:4]) // the first look's three reads, in any order
	want := []string{
		"POST /api/v1/oauth/token",
		"GET /api/v1/jamf-pro-version", "GET /api/v1/jcds/files", "GET /api/v1/packages",
		"POST /api/v1/jcds/files",
		"GET /api/v1/jcds/files", // the wait: JCDS lists the bytes
		"GET /api/v1/packages",   // the second look: the record afresh, the listing the wait's
		"POST /api/v1/packages",
		"POST /api/v1/cloud-distribution-point/refresh-inventory",
		"GET /api/v1/packages/1",
		"POST /api/v1/auth/invalidate-token",
	}
	if !slices.Equal(got, want) || res.HTTPCalls != len(want) {
		t.Fatalf("new upload (%d requests counted):\n got %s\nwant %s", res.HTTPCalls, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}

	sim.ResetLog()
	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "unchanged" {
		t.Fatalf("re-run: %+v %v", res, err)
	}
	got = jamfRequests(sim)
	slices.Sort(got[1:4])
	want = []string{
		"POST /api/v1/oauth/token",
		"GET /api/v1/jamf-pro-version", "GET /api/v1/jcds/files", "GET /api/v1/packages",
		"POST /api/v1/auth/invalidate-token",
	}
	if !slices.Equal(got, want) || res.HTTPCalls != len(want) {
		t.Fatalf("unchanged re-run (%d requests counted):\n got %s\nwant %s", res.HTTPCalls, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if len(sim.S3Log()) != 0 {
		t.Fatalf("an unchanged re-run touched S3: %v", sim.S3Log())
	}
}

// On a server older than 11.5 the record lives in the Classic API: the
// lookup the first look sent to the Jamf Pro API beside the version is
// dropped, and the Classic API asked; the run converges as before.
func TestObserveClassicServer(t *testing.T) {
	sim, err := jamfsim.New(jamfsim.Config{Version: "11.4.0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	pkg := filepath.Join(t.TempDir(), "Old.pkg")
	writeBytes(t, pkg, 5)
	req := roundsReq(t, sim, pkg)
	res, err := NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || !res.Uploaded {
		t.Fatalf("new upload on 11.4: %+v %v", res, err)
	}
	converged(t, sim, pkg)
	sim.ResetLog()
	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Uploaded || res.MetadataUpdated {
		t.Fatalf("re-run on 11.4: %+v %v", res, err)
	}
	got := jamfRequests(sim)
	classic := slices.IndexFunc(got, func(s string) bool { return strings.HasPrefix(s, "GET /JSSResource/packages") })
	if classic < 0 {
		t.Fatalf("the Classic API was not asked: %v", got)
	}
	for _, e := range sim.Log() {
		if strings.HasPrefix(e.Path, "/api/v1/packages") && e.Status != 404 {
			t.Fatalf("the Jamf Pro API's packages answered on 11.4: %v", e)
		}
	}
}
