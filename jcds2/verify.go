package jcds2

import (
	"context"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// verifyReady waits, up to the verify timeout, until the record is what
// Jamf Pro deploys: READY, with a size, and a hash describing our bytes.
// Like Jamf's Terraform provider it asks for a refresh now and then
// while it waits (every 10 s), since only a refresh makes a record
// READY. Running out of time is reported, never failed: the upload
// itself succeeded. It returns whether it verified (and refreshed).
//
// A record that comes to claim the hash of other bytes while it waits
// was written by another run, or refreshed from other bytes: where the
// route lists what it holds (JCDS), a look tells whether another run's
// upload took the name from ours. Then this run lost: the wait ends at
// once with that fact (facts.lostTo) and errReobserve, and the next
// round plans on the winner instead of waiting out the timeout.
func (r *run) verifyReady(ctx context.Context, w *world) (facts, error) {
	id := r.res.PkgID // the record looked up, or the one this run created
	if id == "" {
		return facts{}, nil
	}
	if !r.store.showsReady() {
		// The Classic API shows no status or size; what this round's
		// look proved of the route verifies the bytes.
		return facts{verified: w.cloud().proven(w)}, nil
	}
	var learned facts
	lastRefresh, lastCheck := time.Now(), time.Time{}
	looked, lastLook := "", time.Time{} // the foreign hash the route was last looked at for, and when
	ok := r.poll(ctx, "Jamf Pro to make the record READY", func() bool {
		// A refresh makes a check two requests: only a second or more
		// after the last check, so no second sees three.
		if time.Since(lastRefresh) >= 10*time.Second && time.Since(lastCheck) >= time.Second {
			learned.recalculated = r.refresh(ctx) || learned.recalculated
			lastRefresh = time.Now()
		}
		lastCheck = time.Now()
		p, err := r.c.GetPackage(ctx, id)
		if err != nil {
			return false
		}
		rec := &record{hashType: jamf.Deref(p.HashType), hashValue: jamf.Deref(p.HashValue), status: p.CloudTransferStatus, size: jamf.Deref(p.Size)}
		if r.claimsOther(rec) && (rec.hashValue != looked || time.Since(lastLook) >= relookEvery) {
			// Another run's write, or a refresh that took the hash of
			// other bytes: the route says which. At once for a new
			// claim; again, at most every relookEvery, while it stands
			// and the look told nothing (a listing refused, the
			// winner's file not hashed yet, or ours still listed).
			looked, lastLook = rec.hashValue, time.Now()
			if winner := r.otherBytes(ctx, w); winner != "" {
				r.log.Logf(0, "Another run's upload of %s replaced this run's on JCDS (md5 %s), and the record %s now claims its hash: this run lost, and leaves that one", r.req.PkgName, winner, id)
				learned.lostTo = winner
				return true
			}
		}
		if rec.processedUnhashed() {
			// No hash will come to wait for: end the wait, not verified,
			// instead of waiting out the timeout (15 minutes by default).
			r.log.Logf(0, "Jamf Pro processed %s (record %s READY, %s) but computed no hash for it, as it does not for very large packages: it cannot be verified, and no hash is waited for", r.req.PkgName, id, rec.size)
			learned.unhashed = true
			return true
		}
		if !rec.ready() || !rec.describes(r.local.Hashes) {
			return false
		}
		r.log.Logf(1, "Verified: record %s is READY (%s) with %s %s", id, rec.size, rec.hashType, short(rec.hashValue))
		return true
	})
	if learned.lostTo != "" {
		// Not verified, and not ours to wait for: the next look sees the
		// winner, and the plan converges on it (cloud_jcds.go).
		return learned, errReobserve
	}
	if learned.unhashed {
		return learned, nil
	}
	learned.verified = ok
	if !ok {
		r.log.Logf(0, "Package record %s is not yet READY with the uploaded hash; it was written but is not yet verified (waited %s)", id, r.req.VerifyTimeout)
	}
	return learned, nil
}

// relookEvery is how often a wait looks at the route again while the
// record claims another hash and the last look could not tell whose
// bytes the route holds: as often as it asks for a refresh, one request
// more in a rare case, where waiting out the verify timeout (15 minutes
// by default) would end "not yet verified" beside another run's record.
const relookEvery = 10 * time.Second

// claimsOther reports a record that claims a hash the local bytes do
// not have (not one it claims none of, nor one this run cannot compare).
func (r *run) claimsOther(rec *record) bool {
	switch {
	case rec.hashValue == "":
		return false
	case rec.claimsSHA3():
		return r.local.SHA3 != "" && !rec.describes(r.local.Hashes)
	case strings.EqualFold(rec.hashType, "MD5"):
		return r.local.MD5 != "" && !rec.describes(r.local.Hashes)
	}
	return false
}

// otherBytes looks at what the route holds under the name now, where it
// can (a listing with hashes: JCDS), and returns the MD5 of other bytes
// found there; "" when it holds ours, nothing, bytes without a hash yet,
// or cannot be looked at.
func (r *run) otherBytes(ctx context.Context, w *world) string {
	l, ok := w.cloud().(relooker)
	if !ok || r.local.MD5 == "" {
		return ""
	}
	h, err := l.holdsNow(ctx, r)
	if err != nil || !h.Present || h.Hashes.MD5 == "" || SameHash(h.Hashes.MD5, r.local.MD5) {
		return ""
	}
	return h.Hashes.MD5
}

// poll calls check until it reports success or the verify timeout runs
// out, and records the wait. It asks at most twice a second, and backs
// off as the wait grows (a tenth of the time waited so far, so readiness
// is noticed within max(0.5 s, 10% of the wait); at most 15 s): a good
// citizen on a long wait, since Jamf asks for at most 5 connections.
func (r *run) poll(ctx context.Context, what string, check func() bool) bool {
	start := time.Now()
	calls := r.c.Calls()
	defer func() {
		r.res.Waits = append(r.res.Waits, Wait{What: what, Took: time.Since(start), Requests: r.c.Calls() - calls})
	}()
	deadline := start.Add(r.req.VerifyTimeout)
	for {
		began := time.Now()
		if check() {
			return true
		}
		// From the start of this check, so that its own round trip does
		// not add to how late readiness is noticed.
		next := began.Add(min(max(500*time.Millisecond, time.Since(start)/10), 15*time.Second))
		if next.After(deadline) || ctx.Err() != nil {
			return false
		}
		if w, ok := r.log.(waitLogger); ok {
			w.Waiting(what, time.Since(start))
		}
		if wait(ctx, time.Until(next)) != nil {
			return false
		}
	}
}

// waitLogger is a Logger that can show what a run is waiting for (the
// pkg command's progress line); poll tells it while it waits.
type waitLogger interface {
	Waiting(what string, waited time.Duration)
}
