package jcds2

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Crash points derived from the plan table. Every cell of the table
// (plan_test.go) gives a start: the same record, file and destinations
// set up for real (simulator on HTTP, its S3, a file:// share, the S3
// point, the fake third kind), with what a run does itself undone (a
// cell "this run put the local bytes on the share" starts with the share
// empty). Each start is run once to count its actions; then, for every
// action boundary, a fresh world, a run stopped there (nothing after it
// happens, as after SIGKILL), a plain re-run, and the judgement: the
// state the uninterrupted run leaves, nothing claimed that is not true,
// and the simulator's Converged oracle where the run converges.
//
// The clean runs report every round's world and plan (Engine.planned);
// a cell counts as covered when a round agreed with it on everything it
// states and made its plan. A cell added to the table that no start
// reaches fails the test, unless crashExempt says why it cannot be set
// up here and which test covers it instead.

var errCrash = errors.New("crashed here")

// crashExempt: the cells no start reaches, each with the reason: another
// writer or JCDS timing at a moment no set-up reaches cheaply (and the
// tests that cover it instead), a world no real run produces, or a known
// defect. A cell listed here that a start reaches fails the test too.
var crashExempt = map[string]string{
	`jcds2, record stale, file unhashed, flags "p"`:      pendingCovered,
	`jcds2, record ok, file same, flags "p"`:             pendingCovered,
	`jcds2, record ok, file other, flags "d"`:            lostCovered,
	`jcds2, record ok, file other, flags "rl"`:           lostCovered,
	`jcds2, record none, file other, flags "rl"`:         lostCovered,
	`jcds2, record ok, file same, flags "rl"`:            lostCovered,
	`jcds2, record ok, file none, flags "rl"`:            lostCovered,
	`jcds2, record stale, file other, flags "dl"`:        lostCovered,
	`jcds2, record ok, file unhashed, flags ""`:          unhashedCovered,
	`jcds2, record ok, file unhashed, flags "r"`:         unhashedCovered,
	`jcds2, record ok, file unhashed+unhashed, flags ""`: unhashedCovered,
	`jcds2, record ok, file same+unhashed, flags ""`:     unhashedCovered,
	// Refused by the plan before any action: no boundary to stop at.
	`jcds2, record otherfile, file same, flags "s"`:                   refusedCovered,
	`jcds2, record otherfile, file none, flags "s"`:                   refusedCovered,
	`packages-api, record otherfile, file none, flags "s"`:            refusedCovered,
	`distribution-points, record otherfile, file |sh:none, flags "s"`: refusedCovered,
	// A run that puts over a stale record clears its hash first (Wx P0),
	// so its next round sees a record with no hash: this world is the
	// table's alone.
	`distribution-points, record stale, file |sh:mine, flags "s"`: "not reachable: the run clears the stale hash before its copy (the next round is nohash|sh:mine)",
	// The copy checks what it read against the local hashes: a torn copy
	// fails the run before any round can see it.
	`distribution-points, record ok, file |sh:torn, flags "r"`: "not reachable: the torn copy fails the run (TestTornCopyToSambaShareRecordsNothing, TestTornUploadToSelfHostedS3RecordsNothing, root)",
}

const (
	pendingCovered  = "JCDS must list this run's upload after the verify timeout and before the next look, or list no hash: TestRoundsPendingUpload"
	lostCovered     = "another run's upload must land between this run's upload and its look, JCDS keeping no copy of ours (the run then waits 30 s): TestRoundsTwoRunsOneLoses, TestRoundsRecordTakenOverByWinner, TestTwoMachinesReplacingOnJCDS (root)"
	refusedCovered  = "the run fails before anything is written, with no action boundary: TestRoundsSkipMetadataRecordNamesOtherFile"
	unhashedCovered = "the simulator's JCDS hashes every file (real JCDS lists none for very large ones): the plan table alone"
)

// covers reports whether a round (its world's key and facts, and its
// plan) is the cell: the same key, at least the cell's facts, the same
// plan.
func covers(cellKey, cellFacts, want, key, facts, got string) bool {
	if cellKey != key || got != want {
		return false
	}
	for _, f := range cellFacts {
		if !strings.ContainsRune(facts, f) {
			return false
		}
	}
	return true
}

type cellRef struct {
	c          planCell
	key, facts string
	covered    bool
}

func TestCrashAtEveryActionBoundary(t *testing.T) {
	tableLocal := Hashes{MD5: localMD5, SHA3: localSHA3}
	var cells []*cellRef
	starts := map[string]crashStart{}
	for _, c := range planCells() {
		w, req := cellWorld(t, c)
		key, facts := worldKey(w, req, w.local.size, tableLocal)
		ref := &cellRef{c: c, key: key, facts: facts}
		cells = append(cells, ref)
		if s, why := startOf(c); why == "" && crashExempt[c.String()] == "" {
			starts[s.String()] = s
		}
	}
	var names []string
	for n := range starts {
		names = append(names, n)
	}
	sort.Strings(names)
	t0 := time.Now()
	var mu sync.Mutex // total, cellRef.covered
	total := 0
	t.Run("starts", func(t *testing.T) {
		for _, n := range names {
			crashStartTest(t, starts[n], cells, func(actions int, reached []*cellRef) {
				mu.Lock()
				defer mu.Unlock()
				total += actions
				for _, ref := range reached {
					ref.covered = true
				}
			})
		}
	})
	covered := 0
	for _, ref := range cells {
		why, exempt := crashExempt[ref.c.String()]
		switch {
		case ref.covered && exempt:
			t.Errorf("cell %s is reached now: drop its exemption (%s)", ref.c, why)
		case !ref.covered && !exempt:
			s, why := startOf(ref.c)
			if why == "" {
				why = "its start " + s.String() + " does not reach it"
			}
			t.Errorf("cell %s (plan %q) is not reached by any crash start (%s): make startOf set it up, or add it to crashExempt saying which test covers it", ref.c, ref.c.want, why)
		case ref.covered:
			covered++
		}
	}
	t.Logf("%d of %d plan table cells crashed at every action boundary (%d exempt), %d starts, %d boundaries, %s",
		covered, len(cells), len(crashExempt), len(starts), total, time.Since(t0).Round(time.Second))
}

// crashStartTest runs one start: the clean run, then a stop at every
// action boundary, a run, and the judgement. done is told the number of
// boundaries and the cells the clean run's rounds were, when it passes.
func crashStartTest(t *testing.T, s crashStart, cells []*cellRef, done func(int, []*cellRef)) {
	t.Run(s.String(), func(t *testing.T) {
		s3 := false
		for _, d := range s.dests {
			s3 = s3 || d.kind == "s3"
		}
		if !s3 {
			// Not the S3 point, which is reached through the environment
			// (t.Setenv): these run beside each other, once those ran.
			t.Parallel()
		}
		clean := newCrashWorld(t, s)
		var reached []*cellRef // the cells its rounds were
		// A world that starts truthful stays so at every stop; one
		// that starts diverged (the table's "!" cells) is left as the
		// run found it, or corrected.
		startTruthful := clean.truthful(t) == nil
		for _, d := range s.dests {
			// Another writer's bytes, without its record, are its
			// run's half-done work.
			startTruthful = startTruthful && d.race == ""
		}
		seen := func(w *world, p *Plan) {
			local := clean.localHashes(t)
			key, facts := worldKey(w, clean.req, w.local.size, local)
			got := summary(p)
			matched := false
			for _, ref := range cells {
				if covers(ref.key, ref.facts, ref.c.want, key, facts, got) {
					reached, matched = append(reached, ref), true
				}
			}
			t.Logf("round: %s [%s] plan %q (a table cell: %v)", key, facts, got, matched)
		}
		actions, err := clean.run(-1, seen)
		if err != nil {
			t.Fatalf("the clean run: %v", err)
		}
		if s.slow {
			// What the run leaves depends on when JCDS catches up; the
			// judgement is the state once it has, and a run after.
			clean.settle(t)
		}
		want := clean.state(t)
		convergent := clean.convergedNow(t) == nil
		endTruthful := clean.truthful(t) == nil
		if startTruthful && !endTruthful {
			t.Fatalf("the clean run made a claim that is not true: %v", clean.truthful(t))
		}
		for stop := 0; stop < actions; stop++ {
			cw := newCrashWorld(t, s)
			if _, err := cw.run(stop, nil); !errors.Is(err, errCrash) {
				t.Fatalf("stop before action %d: %v", stop, err)
			}
			if err := cw.truthful(t); startTruthful && err != nil {
				t.Fatalf("stopped before action %d of %d: %v", stop, actions, err)
			}
			if _, err := cw.run(-1, nil); err != nil {
				t.Fatalf("the run after a stop before action %d of %d: %v", stop, actions, err)
			}
			if s.slow {
				if err := cw.truthful(t); err != nil {
					t.Fatalf("the run after a stop before action %d of %d: %v", stop, actions, err)
				}
				cw.settle(t)
			}
			// What the uninterrupted run leaves; or, when that is not
			// converged (a record the refresh finds no file for), the
			// converged state a later run would reach anyway.
			if got := cw.state(t); got != want && (convergent || cw.convergedNow(t) != nil) {
				t.Fatalf("a stop before action %d of %d, then a run, left\n%s\nnot what the uninterrupted run left:\n%s", stop, actions, got, want)
			}
			if err := cw.truthful(t); endTruthful && err != nil {
				t.Fatalf("the run after a stop before action %d of %d: %v", stop, actions, err)
			}
			if convergent {
				if err := cw.convergedNow(t); err != nil {
					t.Fatalf("not converged after a stop before action %d of %d: %v", stop, actions, err)
				}
			}
		}
		t.Logf("%d action boundaries (converges: %v)", actions, convergent)
		if !t.Failed() {
			done(actions, reached)
		}
	})
}
