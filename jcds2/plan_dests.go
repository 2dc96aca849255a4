package jcds2

// The destinations' part of the plan (pure, like plan.go): they come
// first, and the record claims their bytes only once all hold them.

// planDests plans the destinations, before the route and the record,
// and reports whether they all hold the local bytes (the rest of the
// plan may follow). Per destination:
//   - the local bytes: nothing to do;
//   - this run's copy replaced by another writer's bytes: lost; this
//     run writes nothing more and leaves the name to the winner;
//   - nothing of that name: put;
//   - other bytes (a foreign file, or an older version), whether or
//     not a record names them: put with Request.Replace, else diverged,
//     and nothing is written anywhere (a record would name bytes that
//     are not everywhere).
//
// Copies are preceded by clearing a record hash that describes other
// bytes (the record never claims what a destination no longer holds),
// and end the round: the next look proves what landed, then the record
// is written with the hash.
func planDests(w *world, req *Request, p *Plan) bool {
	name := req.PkgName
	var puts []int
	for i, s := range w.dests {
		switch {
		case s.holds(w.local):
			if s.put == nil {
				p.info("%s already holds %s with the same bytes: nothing to copy", s.d, name)
			}
		case s.lost(w.local):
			p.Lost, p.Diverged = true, true
			p.note("%s on %s now holds another run's bytes, which replaced this run's copy: leaving them, and the record, to that run", name, s.d)
		case s.put != nil:
			p.Diverged = true
			p.note("%s on %s holds bytes other than the local package's although this run copied it there: leaving it; run again to decide", name, s.d)
		case !s.h.Present:
			puts = append(puts, i)
		case req.Replace:
			p.hint(ReplaceAllowed, "%s on %s holds other bytes: replacing it", name, s.d)
			puts = append(puts, i)
		case w.rec == nil:
			p.Diverged = true
			p.hint(NeedsReplace, "%s on %s holds other bytes and no package record names it: not replacing it, and writing no record that would name it.", name, s.d)
		default:
			p.Diverged = true
			p.hint(NeedsReplace, "%s on %s holds other bytes than the local package; not replacing them.", name, s.d)
		}
	}
	if p.Diverged {
		return false
	}
	if len(puts) == 0 {
		return true
	}
	if rec := w.rec; rec != nil && rec.hashValue != "" && !rec.describes(w.local.Hashes) {
		if rec.classic == nil {
			p.add(action{kind: actWriteRecord, clearHash: true, why: "hash"})
		} else {
			// The Classic API documents no way to clear a hash (an
			// omitted element is left as it is): until the record write
			// after the copies, it claims the bytes they replace.
			p.info("Package record %s (Classic API) keeps its hash until the copies are done", rec.id)
		}
	}
	for _, i := range puts {
		p.add(action{kind: actPut, name: name, dest: i})
	}
	p.Again = true
	return false
}

// putThisRun reports a destination this run put the local bytes on.
func (w *world) putThisRun() bool {
	for _, s := range w.dests {
		if s.put != nil {
			return true
		}
	}
	return false
}

// cloudDest reports a destination that is Jamf Pro's cloud distribution
// point (a self-hosted bucket): Jamf Pro takes stock of it by a refresh.
func (w *world) cloudDest() bool {
	for _, s := range w.dests {
		if s.d.Cloud() {
			return true
		}
	}
	return false
}
