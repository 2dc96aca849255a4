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
