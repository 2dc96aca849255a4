package jcds2

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// apply runs the plan's actions in their order, in which every prefix
// leaves the server safe (docs/how-a-run-converges.md). It executes and
// never decides: what an action learns it returns as facts (facts.go),
// kept on the run for the next look, never a change to w.
//
//	JCDS route:     stale file out, new bytes up, wait until JCDS holds
//	                them; then, seen by the next round, the record (with
//	                their hash), duplicates out, refresh, verify.
//	packages route: the record (claiming no hash while its file
//	                changes), the upload, refresh, verify.
//
// The refresh comes after the last record write: a PUT blanks the size,
// and only a refresh makes the record READY (reference, section 13).
func (r *run) apply(ctx context.Context, w *world, p *Plan) error {
	// The category is checked before anything is written: by a record
	// write in this plan, or by the one an upload to JCDS leads to in the
	// next round.
	need := p.Again && (p.has(actUpload) || p.has(actPut)) && (w.rec == nil || !r.req.SkipMetadata)
	for _, a := range p.actions {
		need = need || a.kind == actWriteRecord && a.metadata
	}
	if need {
		if _, err := r.resolveCategory(ctx); err != nil {
			return err
		}
	}
	for _, a := range p.actions {
		if r.e.boundary != nil {
			if err := r.e.boundary(); err != nil {
				return err
			}
		}
		var err error
		var learned facts
		switch c := w.cloud(); {
		case c.owns(a.kind):
			learned, err = c.apply(ctx, r, w, p, a)
		case a.kind == actPut:
			learned, err = r.put(ctx, w, a)
		case a.kind == actWriteRecord:
			learned, err = r.writeRecord(ctx, w, a)
		case a.kind == actRefresh:
			learned.recalculated = r.refresh(ctx)
		case a.kind == actVerify:
			learned, err = r.verifyReady(ctx, w)
		}
		r.learned.add(learned)
		if err != nil {
			return r.afterStaleDeleted(&stepError{a.kind, err})
		}
	}
	return nil
}

// afterStaleDeleted adds to a failure after the stale file was deleted
// that it was: "nothing was changed" would not be true. The record still
// names the file; a run uploads it again (Request.Replace is not needed, as
// JCDS holds no file of that name).
func (r *run) afterStaleDeleted(err error) error {
	if r.learned.staleDeleted == "" || r.learned.sent() {
		return err
	}
	gone := fmt.Sprintf("the old file %s had already been deleted from JCDS to make way for the new one, so the package record names a file JCDS no longer holds until a run uploads it", r.learned.staleDeleted)
	var ie *InterruptedError
	if errors.As(err, &ie) {
		left := strings.Replace(ie.Left, "nothing was changed in Jamf Pro", "no record was changed in Jamf Pro", 1)
		return &InterruptedError{Step: ie.Step, Left: left + "; but " + gone + ": run again"}
	}
	return fmt.Errorf("%w; %s: run again", err, gone)
}

// refresh asks Jamf Pro to take stock of the file (or all files with
// recalculate), and reports whether it did. A failure is a warning:
// Jamf's own sync comes later.
func (r *run) refresh(ctx context.Context) bool {
	if r.req.RecalculateWait > 0 {
		wait(ctx, r.req.RecalculateWait)
	}
	name := r.req.PkgName
	if r.req.Recalculate {
		name = ""
	}
	if err := r.c.RefreshInventory(ctx, r.v, name); err != nil {
		r.log.Logf(0, "WARNING: %v; Jamf Pro will notice the file on its next sync", err)
		return false
	}
	return true
}

// stepError is an action's failure, with the action's kind, for the
// engine to decide what to take back (undo).
type stepError struct {
	kind actionKind
	err  error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }
