package jcds2

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// The engine's rounds against the simulator with its embedded S3 (no
// MinIO): an upload to JCDS ends a round, and the record is written
// from what the next look sees. Each case ends with the oracle.

type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Logf(_ int, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(sprintf(format, args...)))
}
func (l *lineLog) Secret(string)         {}
func (l *lineLog) Progress(int64, int64) {}
func (l *lineLog) Note(n Note)           { l.Logf(n.Level, "%s", n.Text) }
func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func roundsSim(t *testing.T) *jamfsim.Server {
	t.Helper()
	sim, err := jamfsim.New(jamfsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func roundsReq(t *testing.T, sim *jamfsim.Server, pkg string) *Request {
	return &Request{URL: sim.URL, Auth: Credentials{ClientID: jamfsim.DefaultClientID, ClientSecret: jamfsim.DefaultClientSecret},
		PkgPath: pkg, PkgName: filepath.Base(pkg), DisplayName: filepath.Base(pkg), Priority: 10, MaxTries: 3,
		VerifyTimeout: 30 * time.Second, Timeout: 30 * time.Second, S3Endpoint: sim.S3Endpoint(), CacheDir: t.TempDir()}
}

func writeBytes(t *testing.T, path string, seed byte) {
	t.Helper()
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*7) ^ seed
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func converged(t *testing.T, sim *jamfsim.Server, pkg string) {
	t.Helper()
	sha3, size, err := jamfsim.FileSHA3(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Converged(filepath.Base(pkg), sha3, size); err != nil {
		t.Fatal(err)
	}
}

func TestRoundsUploadReplaceAndRerun(t *testing.T) {
	sim := roundsSim(t)
	pkg := filepath.Join(t.TempDir(), "Rounds.pkg")
	writeBytes(t, pkg, 1)
	req := roundsReq(t, sim, pkg)

	// A dry run lists the writes of every round, in order.
	req.DryRun = true
	res, err := NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Plan, "; "); !strings.HasPrefix(got, "upload Rounds.pkg") || !strings.Contains(got, "create the package record") || !strings.HasSuffix(got, "wait until the record is READY with the local hash") {
		t.Fatalf("dry run: %s", got)
	}
	if len(sim.Packages()) != 0 || len(sim.Files()) != 0 {
		t.Fatal("a dry run wrote")
	}
	req.DryRun = false

	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "uploaded, verified" || !res.Uploaded || !res.MetadataUpdated {
		t.Fatalf("first run: %+v %v", res, err)
	}
	converged(t, sim, pkg)

	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "unchanged" || res.Uploaded || res.MetadataUpdated || res.Outcome != Converged {
		t.Fatalf("re-run: %+v %v", res, err)
	}

	writeBytes(t, pkg, 2)
	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "unchanged (the server holds other bytes)" || res.Outcome != Diverged || !res.NeedsReplace {
		t.Fatalf("new bytes without replacing: %+v %v", res, err)
	}
	req.Replace = true
	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "uploaded, verified" {
		t.Fatalf("replace: %+v %v", res, err)
	}
	converged(t, sim, pkg)
}

// An unknown category stops the run before the upload the plan starts
// with: nothing is written.
func TestRoundsCategoryBeforeUpload(t *testing.T) {
	sim := roundsSim(t)
	pkg := filepath.Join(t.TempDir(), "Cat.pkg")
	writeBytes(t, pkg, 3)
	req := roundsReq(t, sim, pkg)
	req.Category = "No Such Category"
	_, err := NewEngine().Upload(context.Background(), req, &lineLog{})
	var ce *CategoryError
	if !asError(err, &ce) {
		t.Fatalf("want a CategoryError, got %v", err)
	}
	if len(sim.Files()) != 0 || len(sim.Packages()) != 0 {
		t.Fatalf("written before the category was checked: %v %v", sim.Files(), sim.Packages())
	}
	if open, _ := sim.Processing(context.Background()); len(open) != 0 {
		t.Fatalf("an upload was sent: %v", open)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func asError[T error](err error, target *T) bool { return errors.As(err, target) }

// Two engines replace one package with different bytes at once: one
// upload gets the name, the other lands at Name_1 (or is deleted as the
// stale file by the other's run). The run that lost says so, removes
// its copy, writes nothing, and ends unchanged, well within its verify
// timeout (10 minutes; each run's deadline here is 2); the server
// converges on the winner.
//
// On a loaded machine the two runs can miss each other: one verifies
// before the other's upload lands, and the later replace is a plain
// second replace (both say "uploaded, verified", and the server holds
// the later one's bytes). That is true of both, but not the race this
// test is about, so it tries again with a fresh server, up to 3 times.
// TestRoundsRecordTakenOverByWinner orders the race's other ending
// deterministically.
func TestRoundsTwoRunsOneLoses(t *testing.T) {
	for attempt := 1; attempt <= 3; attempt++ {
		if twoRunsRace(t) {
			return
		}
		t.Logf("attempt %d: the runs did not overlap (both replaced in turn); again", attempt)
	}
	t.Fatal("in 3 attempts the two runs never raced for the name")
}

// twoRunsRace runs the race once and checks it; it reports whether one
// run lost (false: both replaced in turn, the server holds the later).
func twoRunsRace(t *testing.T) bool {
	t.Helper()
	sim := roundsSim(t)
	first := filepath.Join(t.TempDir(), "Two.pkg")
	writeBytes(t, first, 4)
	if _, err := NewEngine().Upload(context.Background(), roundsReq(t, sim, first), &lineLog{}); err != nil {
		t.Fatal(err)
	}
	pkgs := []string{filepath.Join(t.TempDir(), "Two.pkg"), filepath.Join(t.TempDir(), "Two.pkg")}
	sim.Delay("GET /api/v1/packages", time.Second, 2) // both find the first version
	type out struct {
		res *Result
		err error
		log *lineLog
	}
	outs := make([]out, 2)
	var wg sync.WaitGroup
	for i, pkg := range pkgs {
		writeBytes(t, pkg, byte(5+i))
		req := roundsReq(t, sim, pkg)
		req.Replace, req.VerifyTimeout = true, 10*time.Minute
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A run that waited out its verify timeout would be cut here,
			// and fail the test.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			l := &lineLog{}
			res, err := NewEngine().Upload(ctx, req, l)
			outs[i] = out{res, err, l}
		}()
	}
	wg.Wait()
	var won []int
	lost := 0
	for i, o := range outs {
		if o.err != nil {
			t.Fatalf("run %d: %v\n%s", i, o.err, o.log.text())
		}
		switch o.res.Status {
		case "uploaded, verified":
			won = append(won, i)
		case "unchanged (another run's upload of other bytes won)":
			lost++
			if o.res.Uploaded || o.res.MetadataUpdated || o.res.Verified || o.res.Outcome != Lost || o.res.NeedsReplace {
				t.Errorf("the run that lost claims a change: %+v", o.res)
			}
			if !strings.Contains(o.log.text(), "this run lost") {
				t.Errorf("run %d lost without saying so:\n%s", i, o.log.text())
			}
		default:
			t.Errorf("run %d: %q\n%s", i, o.res.Status, o.log.text())
		}
	}
	switch {
	case len(won) == 1 && lost == 1:
		t.Logf("run %d won, run %d lost", won[0], 1-won[0])
		converged(t, sim, pkgs[won[0]]) // and no Two_1.pkg
		return true
	case len(won) == 2:
		// Both replaced in turn: the server holds the later one's bytes.
		held := sim.Files()["Two.pkg"]
		for _, pkg := range pkgs {
			if sha3, size, err := jamfsim.FileSHA3(pkg); err == nil && strings.EqualFold(sha3, held.SHA3) {
				if err := sim.Converged("Two.pkg", sha3, size); err != nil {
					t.Fatal(err)
				}
				return false
			}
		}
		t.Fatalf("both runs say they won, and Two.pkg holds neither's bytes: %v", sim.Files())
	}
	t.Fatalf("%d won, %d lost:\n%s\n---\n%s", len(won), lost, outs[0].log.text(), outs[1].log.text())
	return false
}

// JCDS does not list the upload within the verify timeout: the record
// is written claiming no hash, the run says "not yet verified", and the
// next run (once JCDS has processed it) converges without uploading again.
func TestRoundsPendingUpload(t *testing.T) {
	sim, err := jamfsim.New(jamfsim.Config{IngestDelay: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	pkg := filepath.Join(t.TempDir(), "Slow.pkg")
	writeBytes(t, pkg, 7)
	req := roundsReq(t, sim, pkg)
	req.VerifyTimeout = time.Second
	res, err := NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Status != "uploaded, not yet verified" || !res.Uploaded {
		t.Fatalf("%+v %v", res, err)
	}
	for _, p := range sim.Packages() {
		if p.HashValue != nil && *p.HashValue != "" {
			t.Fatalf("the record claims a hash before JCDS listed the bytes: %+v", p)
		}
	}
	time.Sleep(3 * time.Second)
	req.VerifyTimeout = 30 * time.Second
	res, err = NewEngine().Upload(context.Background(), req, &lineLog{})
	if err != nil || res.Uploaded {
		t.Fatalf("the re-run: %+v %v", res, err)
	}
	converged(t, sim, pkg)
}

// Another run replaces this run's upload after it landed: its delete of
// the file it found stale takes ours, its upload gets the name, and its
// record write comes after ours (the winner's write after it), or
// before it (the loser's write after it, which the refresh that follows
// makes describe the winner's bytes again). The run that lost ends as
// soon as the record it waits on claims the winner's hash: it says it
// lost, claims no upload and no record write, leaves no copy, and the
// server converges on the winner. Its verify timeout is 10 minutes: the
// test's own deadline of 2 minutes fails a run that waits it out.
func TestRoundsRecordTakenOverByWinner(t *testing.T) {
	for _, c := range []struct {
		name   string
		before actionKind // the loser's action the winner's whole run comes before
	}{
		{"winner writes after", actVerify},
		{"loser writes after", actWriteRecord},
	} {
		t.Run(c.name, func(t *testing.T) {
			sim := roundsSim(t)
			res, llog, winner := takeOver(t, sim, 10, c.before, nil)
			if res.NeedsReplace || res.Status != "unchanged (another run's upload of other bytes won)" {
				t.Fatalf("the run that lost claims what is not true: %+v\n%s", res, llog.text())
			}
			if !strings.Contains(llog.text(), "this run lost") {
				t.Errorf("the run that lost does not say so:\n%s", llog.text())
			}
			converged(t, sim, winner) // and no Race_1.pkg
		})
	}
}

// takeOver races two runs replacing Race.pkg (first uploaded with bytes
// of seed, then the loser's seed+1 and the winner's seed+2): the winner's
// whole run comes just before the loser's action before, then then()
// runs. The loser's verify timeout is 10 minutes; the test's own
// deadline of 2 minutes fails a run that waits it out. It fails the test
// unless the winner verified and the loser ended Lost claiming nothing,
// and returns the loser's result, its log and the winner's package.
func takeOver(t *testing.T, sim *jamfsim.Server, seed byte, before actionKind, then func()) (*Result, *lineLog, string) {
	t.Helper()
	first := filepath.Join(t.TempDir(), "Race.pkg")
	writeBytes(t, first, seed)
	if _, err := NewEngine().Upload(context.Background(), roundsReq(t, sim, first), &lineLog{}); err != nil {
		t.Fatal(err)
	}
	loser, winner := filepath.Join(t.TempDir(), "Race.pkg"), filepath.Join(t.TempDir(), "Race.pkg")
	writeBytes(t, loser, seed+1)
	writeBytes(t, winner, seed+2)
	lreq, wreq := roundsReq(t, sim, loser), roundsReq(t, sim, winner)
	lreq.Replace, lreq.VerifyTimeout = true, 10*time.Minute
	wreq.Replace = true

	var next []action
	var wres *Result
	var werr error
	wlog, llog := &lineLog{}, &lineLog{}
	e := NewEngine()
	e.planned = func(_ *world, p *Plan) { next = p.actions }
	e.boundary = func() error {
		a := next[0]
		next = next[1:]
		if a.kind == before && wres == nil && werr == nil {
			wres, werr = NewEngine().Upload(context.Background(), wreq, wlog)
			if then != nil {
				then()
			}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := e.Upload(ctx, lreq, llog)
	if werr != nil || wres == nil || wres.Status != "uploaded, verified" {
		t.Fatalf("the winner: %+v %v\n%s", wres, werr, wlog.text())
	}
	if err != nil {
		t.Fatalf("the run that lost: %v\n%s", err, llog.text())
	}
	if res.Outcome != Lost || res.Uploaded || res.MetadataUpdated || res.Verified {
		t.Fatalf("the run that lost claims what is not true: %+v\n%s", res, llog.text())
	}
	return res, llog, winner
}

// With metadata updates off, the record found by the display name names
// another file (Firefox-120.pkg; the package is Firefox-121.pkg): the
// record cannot be pointed at the package, so the run fails before it
// writes anything, on either route, dry run or not: no upload that no
// record names, no record that does not describe its file.
func TestRoundsSkipMetadataRecordNamesOtherFile(t *testing.T) {
	for _, c := range []struct {
		route string
		cfg   jamfsim.Config
	}{{"jcds2", jamfsim.Config{}}, {"packages-api", jamfsim.Config{NoJCDSEndpoints: true}}} {
		t.Run(c.route, func(t *testing.T) {
			sim, err := jamfsim.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			old := filepath.Join(t.TempDir(), "Firefox-120.pkg")
			writeBytes(t, old, 20)
			req := roundsReq(t, sim, old)
			req.DisplayName = "Firefox"
			if res, err := NewEngine().Upload(context.Background(), req, &lineLog{}); err != nil || res.Route.String() != c.route {
				t.Fatalf("the first version: %+v %v", res, err)
			}
			before := serverState(sim)

			pkg := filepath.Join(t.TempDir(), "Firefox-121.pkg")
			writeBytes(t, pkg, 21)
			for _, dry := range []bool{true, false} {
				req := roundsReq(t, sim, pkg)
				req.DisplayName, req.SkipMetadata, req.Replace, req.DryRun = "Firefox", true, true, dry
				_, err := NewEngine().Upload(context.Background(), req, &lineLog{})
				var oe *RecordNamesOtherFileError
				if !asError(err, &oe) || oe.FileName != "Firefox-120.pkg" || oe.PkgName != "Firefox-121.pkg" || oe.Display != "Firefox" {
					t.Fatalf("dry run %v: want a RecordNamesOtherFileError for Firefox-120.pkg, got %v", dry, err)
				}
				if after := serverState(sim); after != before {
					t.Fatalf("dry run %v: the server changed:\n%s\nwas:\n%s", dry, after, before)
				}
			}
			if open, _ := sim.Processing(context.Background()); len(open) != 0 {
				t.Fatalf("an upload was sent: %v", open)
			}
			converged(t, sim, old) // the old package as it was
		})
	}
}

// serverState is what the simulator holds that a run could change: every
// record and every JCDS file.
func serverState(sim *jamfsim.Server) string {
	var out []string
	for _, p := range sim.Packages() {
		out = append(out, sprintf("record %s %q %s %s:%s %s %s", p.ID, p.PackageName, p.FileName, deref(p.HashType), deref(p.HashValue), p.CloudTransferStatus, deref(p.Size)))
	}
	for n, f := range sim.Files() {
		out = append(out, sprintf("file %s %s", n, f.MD5))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// The look at JCDS that a record claiming another run's hash prompts
// can tell nothing (here JCDS refuses that one listing; likewise the
// winner's file listed before JCDS hashed it): the run looks again a
// little later, while the claim stands, instead of waiting out its
// whole verify timeout (10 minutes here; the test gives it 2) and
// ending "not yet verified" beside the winner's record.
func TestRoundsRecordTakenOverLookFailsOnce(t *testing.T) {
	sim := roundsSim(t)
	_, _, winner := takeOver(t, sim, 13, actVerify, func() {
		sim.Fail("GET /api/v1/jcds/files", 403, 1) // the loser's first look while it verifies
	})
	converged(t, sim, winner)
}

// An interrupt while the first look's three reads are all in flight
// (each held by the simulator for 10 minutes) ends the run at once with
// the interruption: no read is waited out, nothing is written. The
// 2-minute bound only tells a hang from an ending; no timing is measured.
func TestRoundsInterruptDuringFirstLook(t *testing.T) {
	sim := roundsSim(t)
	pkg := filepath.Join(t.TempDir(), "Interrupted.pkg")
	writeBytes(t, pkg, 16)
	before := serverState(sim)
	var held []<-chan struct{}
	for _, m := range []string{"GET /api/v1/jamf-pro-version", "GET /api/v1/jcds/files", "GET /api/v1/packages"} {
		held = append(held, sim.DelayNotify(m, 10*time.Minute, 1))
	}
	req := roundsReq(t, sim, pkg)
	req.Timeout = 10 * time.Minute // the held requests are not given up on before the interrupt
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := uploadAsync(ctx, req)
	for _, h := range held {
		select {
		case <-h:
		case err := <-done:
			t.Fatalf("the run ended before its three reads were in flight: %v", err)
		case <-time.After(time.Minute):
			t.Fatal("the first look's three reads were never all in flight")
		}
	}
	cancel()
	err := ended(t, done, "the interrupted run did not end: a read of the first look was waited out")
	var ie *InterruptedError
	if !errors.As(err, &ie) || !strings.Contains(ie.Left, "nothing was changed") {
		t.Fatalf("want the interruption, saying nothing was changed; got %v", err)
	}
	sim.ClearFaults()
	if after := serverState(sim); after != before {
		t.Fatalf("the interrupted run changed the server:\n%s\nwant\n%s", after, before)
	}
}

// The version request failing ends the first look at once, with the
// version's error: the reads sent beside it are dropped, not waited for
// (here the JCDS listing is held for 10 minutes, past the 2-minute bound
// that tells a hang from an ending). Nothing is written.
func TestRoundsVersionFailureEndsFirstLook(t *testing.T) {
	sim := roundsSim(t)
	pkg := filepath.Join(t.TempDir(), "NoVersion.pkg")
	writeBytes(t, pkg, 17)
	before := serverState(sim)
	listing := sim.DelayNotify("GET /api/v1/jcds/files", 10*time.Minute, 1)
	req := roundsReq(t, sim, pkg)
	req.Timeout = 10 * time.Minute // the held listing is not given up on by its own timeout
	// The version is refused once the listing is in flight.
	sim.FailBefore("GET /api/v1/jamf-pro-version", 403, 1, func() { <-listing })
	err := ended(t, uploadAsync(context.Background(), req), "the run waited for the listing after the version failed")
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("want the version's refusal, got %v", err)
	}
	sim.ClearFaults()
	if after := serverState(sim); after != before {
		t.Fatalf("the run changed the server:\n%s\nwant\n%s", after, before)
	}
}

// uploadAsync runs an upload in the background; its error arrives on
// the channel.
func uploadAsync(ctx context.Context, req *Request) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := NewEngine().Upload(ctx, req, &lineLog{})
		done <- err
	}()
	return done
}

// ended is the error done brings within 2 minutes, a bound that only
// tells a hang from an ending; past it the test fails saying hang.
func ended(t *testing.T, done <-chan error, hang string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal(hang)
		return nil
	}
}
