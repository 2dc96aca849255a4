package jcds2

import "github.com/jcds2-uploader/jcds2-uploader/jamf"

// facts are what this run's actions learned about the world they
// changed, and what they did: an action returns them, apply adds them to
// the run, the next look hands them to plan (world embeds them), and the
// engine reads them to decide what to take back (undo) or to say what a
// failure left. Nothing else writes them, and the world a plan was made
// from is never changed: anything that needs a fresh look ends the
// round.
type facts struct {
	uploaded bool   // this run uploaded the local bytes to JCDS
	pending  bool   // ...and JCDS did not list them within the verify timeout
	waited   bool   // this run waited for an earlier run's upload to appear
	lostTo   string // the MD5 of another run's upload that took the name from ours
	// puts: what this run put on Request.Destinations[i] (observe hands
	// each to its destState).
	puts map[int]*putFact

	// refused: a JCDS endpoint refused while applying (the upload
	// credentials); the route rule takes it into account from then on.
	refused *jamf.NoJCDSError

	sentPackages bool // the packages route accepted this run's upload
	recalculated bool // Jamf Pro accepted an inventory refresh
	verified     bool // the record was seen to be what Jamf Pro deploys
	unhashed     bool // ...or READY with no hash: Jamf Pro computed none
	wroteRecord  bool // this run wrote the package record
	// The engine took back (undo) this run's JCDS upload, or the record
	// it created: they no longer stand.
	uploadUndone, recordUndone bool

	uploadedNew  bool   // this run's JCDS upload put a file where none was
	staleDeleted string // the stale JCDS file this run deleted before its upload
	createdID    string // the record this run created
}

// add keeps what f learned beside what was known.
func (k *facts) add(f facts) {
	k.uploaded = k.uploaded || f.uploaded
	k.pending = k.pending || f.pending
	k.waited = k.waited || f.waited
	k.uploadedNew = k.uploadedNew || f.uploadedNew
	k.sentPackages = k.sentPackages || f.sentPackages
	k.wroteRecord = k.wroteRecord || f.wroteRecord
	k.recalculated = k.recalculated || f.recalculated
	k.verified = k.verified || f.verified
	k.unhashed = k.unhashed || f.unhashed
	k.uploadUndone = k.uploadUndone || f.uploadUndone
	k.recordUndone = k.recordUndone || f.recordUndone
	if f.refused != nil {
		k.refused = f.refused
	}
	for _, s := range [][2]*string{{&k.lostTo, &f.lostTo}, {&k.staleDeleted, &f.staleDeleted}, {&k.createdID, &f.createdID}} {
		if *s[1] != "" {
			*s[0] = *s[1]
		}
	}
	for i, p := range f.puts {
		if k.puts == nil {
			k.puts = map[int]*putFact{}
		}
		k.puts[i] = p
	}
}

// copy is k for one look: later actions add to the run's, not to it.
func (k facts) copy() facts {
	c := k
	c.puts = nil
	c.add(facts{puts: k.puts})
	return c
}

// sent reports bytes this run handed over that still stand: a JCDS
// upload that did not lose the name and was not taken back, a copy to a
// destination, an upload the packages route accepted. (A copy another
// writer replaced is the plan's finding: Plan.Lost.)
func (k facts) sent() bool {
	return k.uploaded && k.lostTo == "" && !k.uploadUndone || len(k.puts) > 0 || k.sentPackages
}

// wrote reports a record write of this run that still stands.
func (k facts) wrote() bool { return k.wroteRecord && !k.recordUndone }
