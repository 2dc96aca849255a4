package jcds2

import (
	"fmt"
	"strings"
)

// The converged state a run must leave (README, "What a run leaves"):
// exactly one package record whose fileName is Request.PkgName (with
// skip_metadata, in any letter case: cloud_packages.go), with the
// metadata asked for and a hash that describes the local bytes; exactly
// one file of that name on the distribution point, holding those bytes;
// the record READY in Jamf Pro's inventory, with its size; no duplicate
// this tool made. plan is a pure function from what was observed to the
// ordered actions that reach it; apply runs them in that order.

type actionKind int

const (
	actDeleteStale     actionKind = iota // JCDS: the file of our name holds other bytes
	actAwaitEarlier                      // JCDS: an earlier run\'s upload may still be processing
	actUpload                            // the local bytes to the distribution point
	actWriteRecord                       // create or update the record; its place in the plan says when
	actRemoveDuplicate                   // a Name_N copy no record names, with our bytes
	actRefresh                           // refresh-inventory, after the last record write
	actVerify                            // wait until the record is READY with our hash
	actPut                               // the local bytes to Request.Destinations[dest]
)

type action struct {
	kind actionKind
	// record writes
	create    bool
	metadata  bool // the display name, category and other fields asked for
	clearHash bool // the file is about to change: claim no hash meanwhile
	setHash   bool // the distribution point holds our bytes: say so
	name      string
	why       string
	dest      int // actPut: the index in Request.Destinations
}

// Plan is what a run will do, in order, and what it noticed.
type Plan struct {
	actions []action
	Notes   []Note // lines for the log: why, and what was left alone
	// Diverged: the server holds other bytes and Request.Replace is off,
	// so the converged state cannot be reached by this run.
	Diverged bool
	// Lost: during this run another run's upload of other bytes took the
	// name from ours; Request.Replace allowed replacing what was there when
	// the run began, not a concurrent run's result: this run converges on
	// the winner and writes nothing.
	Lost bool
	// Pending: this run's upload is not yet listed by JCDS (it waited the
	// verify timeout): the record claims no hash, and is not verified.
	Pending bool
	// Again: the plan's last step needs a fresh look (an upload to JCDS,
	// a wait for an earlier one): after it the engine observes and plans
	// again, so what the next steps rely on is seen, not assumed.
	Again bool
	// Refusal: the run cannot reach the converged state without a write
	// the request forbids; nothing is planned, and the run fails with it
	// before anything is written anywhere.
	Refusal error
	// Unhashed: Jamf Pro lists the file READY but computed no hash for
	// it (it does not for very large packages: jamf-upload #399, jamf-cli's
	// "unverified"): re-sending gigabytes every run would not change that.
	Unhashed bool
}

// Empty reports a plan with nothing to do.
func (p *Plan) Empty() bool { return len(p.actions) == 0 }

func (p *Plan) add(a action) { p.actions = append(p.actions, a) }

// Note is a line for the log at a verbosity level. Text states what
// was found and done in the engine's words; Hint, when set, is what the
// edge adds in the words of its own inputs or flags.
type Note struct {
	Level int
	Text  string
	Hint  Hint
}

// Hint is why the engine acted as it did, or what the user could change,
// as a value: the edge (processor, the pkg command) renders it.
type Hint int

const (
	NoHint Hint = iota
	// NeedsReplace: the run left other bytes alone; allowing replacement
	// would upload the local package.
	NeedsReplace
	// ReplaceAllowed: other bytes are replaced because replacement was
	// allowed.
	ReplaceAllowed
	// MetadataSkipped: metadata updates are off, so the record is left
	// as it is (or only its hash corrected).
	MetadataSkipped
)

func (p *Plan) hint(h Hint, format string, args ...any) {
	p.Notes = append(p.Notes, Note{0, fmt.Sprintf(format, args...), h})
}

func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, Note{0, fmt.Sprintf(format, args...), NoHint})
}

func (p *Plan) info(format string, args ...any) {
	p.Notes = append(p.Notes, Note{1, fmt.Sprintf(format, args...), NoHint})
}

func (p *Plan) has(k actionKind) bool {
	for _, a := range p.actions {
		if a.kind == k {
			return true
		}
	}
	return false
}

// plan decides. It makes no request: every fact is in w.
func plan(w *world, req *Request) *Plan {
	p := &Plan{}
	if rec := w.rec; rec != nil && req.SkipMetadata && !strings.EqualFold(rec.fileName, req.PkgName) {
		// Found by its display name, the record names another file, and
		// may not be changed: an upload would have no record, or one
		// that does not describe it. (A name in another letter case is
		// the record's own: the upload goes under it, cloud_packages.go.)
		p.Refusal = &RecordNamesOtherFileError{ID: rec.id, Display: rec.display, FileName: rec.fileName, PkgName: req.PkgName}
		return p
	}
	if !planDests(w, req, p) {
		return p // the destinations first: copies, or a divergence
	}
	c := w.cloud()
	c.plan(w, req, p)
	if p.Again || !c.refreshes(w) {
		return p // a fresh look first; or no inventory to refresh (file shares)
	}
	switch {
	case p.Pending:
		// The record was written; Jamf Pro takes stock once JCDS has
		// processed the upload. Nothing to verify yet.
		p.add(action{kind: actRefresh, name: req.PkgName})
	case p.Unhashed:
		if len(p.actions) > 0 {
			p.add(action{kind: actRefresh, name: req.PkgName})
		}
	case p.Diverged:
		// Not ours to change; but a record whose hash does not describe
		// the file the route holds is made true by a refresh.
		// A record write blanks the size: refresh after it too.
		if h := c.held(w); len(p.actions) > 0 || w.rec != nil && h.Present && !w.rec.describes(h.Hashes) {
			p.add(action{kind: actRefresh, name: req.PkgName})
		}
	case len(p.actions) > 0 || w.uploaded || !w.rec.ready() || !w.rec.describes(w.local.Hashes):
		switch {
		case len(p.actions) > 0:
		case w.rec.classic != nil:
			p.note("Package record %s is read through the Classic API, which shows no status: refreshing Jamf Pro's inventory so it is not left Availability Pending", w.rec.id)
		default:
			p.note("Package record %s is not yet deployable (status %q, size %q, %s hash %s): refreshing Jamf Pro's inventory", w.rec.id, w.rec.status, w.rec.size, w.rec.hashType, short(w.rec.hashValue))
		}
		p.add(action{kind: actRefresh, name: req.PkgName})
		p.add(action{kind: actVerify})
	}
	return p
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	if h == "" {
		return "none"
	}
	return h
}

// recordWrite decides the record write. A record is created when none
// exists; written when the file changes or the metadata is asked for
// (not with Request.SkipMetadata); and, on the JCDS route, when its hash
// does not describe the bytes the distribution point now holds. With
// SkipMetadata the refresh alone makes the hash true; where no
// refresh can (file shares only), the hash alone is written: no flag
// allows a record whose hash lies.
func recordWrite(w *world, req *Request, upload, holdsOurs bool, p *Plan) (action, bool) {
	rec := w.rec
	if rec == nil {
		return action{kind: actWriteRecord, create: true, metadata: true, why: "no record names " + req.PkgName}, true
	}
	if req.SkipMetadata && !w.cloud().refreshes(w) && !rec.describes(w.local.Hashes) {
		p.hint(MetadataSkipped, "Package record %s has a hash that does not describe the file on the distribution points: correcting the hash only", rec.id)
		return action{kind: actWriteRecord, why: "hash"}, true
	}
	if req.SkipMetadata {
		return action{}, false // a record naming another file was refused (plan)
	}
	meta := upload || req.ReplaceMetadata || rec.fileName != req.PkgName
	stale := holdsOurs && !rec.describes(w.local.Hashes)
	if stale && !upload {
		p.note("Package record %s has a hash that does not describe the file the distribution point holds: correcting it", rec.id)
	}
	if !meta && !stale {
		return action{}, false
	}
	return action{kind: actWriteRecord, metadata: meta, why: "update"}, true
}

// Describe lists the plan as the lines a dry run prints.
func (p *Plan) Describe(req *Request, w *world) []string {
	var out []string
	for _, a := range p.actions {
		if c := w.cloud(); c.owns(a.kind) {
			out = append(out, c.describe(a, w))
			continue
		}
		switch a.kind {
		case actWriteRecord:
			switch {
			case a.create:
				out = append(out, fmt.Sprintf("create the package record %q for %s", req.DisplayName, req.PkgName))
			case a.metadata:
				out = append(out, fmt.Sprintf("update package record %s (%q)", w.rec.id, req.DisplayName))
			case a.clearHash:
				out = append(out, fmt.Sprintf("clear the hash of package record %s while its files change", w.rec.id))
			default:
				out = append(out, fmt.Sprintf("correct the hash of package record %s", w.rec.id))
			}
		case actRefresh:
			out = append(out, "refresh Jamf Pro's inventory of "+a.name)
		case actVerify:
			out = append(out, "wait until the record is READY with the local hash")
		case actPut:
			out = append(out, fmt.Sprintf("copy %s (%s) to %s", req.PkgName, HumanBytes(w.local.size), w.dests[a.dest].d))
		}
	}
	return out
}
