package jcds2

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// world is what one look at the server and the local file found: the
// planner's only input besides the request.
type world struct {
	version jamf.ServerVersion
	route   Route // the cloud route (cloud.go) the route rule picked
	why     string
	rec     *record     // our record: fileName is Request.PkgName (any case), else displayName
	dests   []destState // Request.Destinations, in order
	// What the JCDS route sees (cloud_jcds.go):
	listing []jamf.FileData // the listing the route rule was decided from
	file    *jamf.FileData  // the JCDS file named Request.PkgName
	dups    []jamf.FileData // Name_N.pkg files no record names
	// What this run's actions learned in earlier rounds (facts.go).
	facts
	local *localFile
}

// record is the package record, from either API.
type record struct {
	id, fileName, display string
	hashType, hashValue   string
	status, size          string // cloudTransferStatus and size (Jamf Pro API only)
	raw                   map[string]any
	classic               *classicxml.Package
}

// ready reports what Jamf Pro needs to deploy the record: READY, with a
// size. The Classic API shows neither (a server before 11.5 has no
// /api/v1/packages to read them from), so a Classic record is never
// known to be ready: where the route has an inventory (JCDS) the plan
// refreshes it every run. A record whose file arrived before it, or
// whose run was killed before its refresh, stays "Availability Pending"
// until a refresh-inventory (/api/v1/jcds/refresh-inventory before
// 11.24) or Jamf's own hourly sync (reference jamf-pro-api.md §3.5, §8
// step 8 and §13; JamfSync #16/#41/#63, which create the record after
// the JCDS upload, stayed pending until JamfSync refreshed). A refresh
// is idempotent and cheap; a record left pending does not install.
func (r *record) ready() bool {
	if r.classic != nil {
		return false
	}
	return r.status == "READY" && r.size != "" && r.size != "0"
}

// processedUnhashed reports a record Jamf Pro has processed (READY, with
// a size: while it works, hashValue and size both read "", and any write
// blanks the size until a refresh, reference section 13) without
// computing a hash, as it does not for very large packages: no hash is
// coming to wait for.
func (r *record) processedUnhashed() bool { return r.ready() && r.hashValue == "" }

// claimsSHA3 reports a record whose hash is a SHA3-512 (comparing it
// needs the local SHA3-512).
func (r *record) claimsSHA3() bool { return strings.EqualFold(r.hashType, "SHA3_512") }

// describes reports whether the record's hash is that of h.
func (r *record) describes(h Hashes) bool {
	switch strings.ToUpper(r.hashType) {
	case "SHA3_512":
		return SameHash(h.SHA3, r.hashValue)
	case "MD5":
		return SameHash(h.MD5, r.hashValue)
	}
	return false
}

// observe looks at the server and every destination: version, route,
// record, the destinations, and what the route holds (cloud.observe);
// and at the local file's hashes when there is something to compare.
func (r *run) observe(ctx context.Context) (*world, error) {
	rd, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	w := &world{version: r.v, local: r.local, facts: r.learned.copy()}
	files, err := r.chooseRoute(ctx, w, rd)
	if err != nil {
		return nil, err
	}
	// The same error, in the same order, as when the lookup followed the
	// route's choice.
	if rd.findErr != nil {
		return nil, rd.findErr
	}
	w.rec = rd.rec
	w.listing = files
	if err := r.observeDests(ctx, w); err != nil {
		return nil, err
	}
	if err := w.cloud().observe(ctx, r, w); err != nil {
		return nil, err
	}
	return w, nil
}

// reads are what a look asks Jamf Pro: on the first look the version,
// and on every look the JCDS listing and the record. None needs another's
// answer, so they go at once: one round trip, where one after another
// they took three (the Jamf Pro requests before an upload were five
// round trips, 0.8 s of a 1 GiB upload over 200 ms: docs/performance.md).
type reads struct {
	files   []jamf.FileData // the JCDS listing, when the route rule wants it
	listErr error           // its error: an input of the route rule, not a failure
	rec     *record
	findErr error
}

// read makes a look's requests at once. The record store depends on
// the version (the Jamf Pro API since 11.5, the Classic API before), so
// the first look asks the Jamf Pro API beside the version: every Jamf
// Cloud tenant runs 11.5 or later. On an older server that lookup is
// dropped (cancelled as soon as the version says so; there it is a 404,
// never retried) and the Classic API is asked after the version: one
// request more, no round trip more than before.
func (r *run) read(ctx context.Context) (reads, error) {
	var rd reads
	var wg sync.WaitGroup
	first := r.store == nil
	store, readCtx, findCtx := r.store, ctx, ctx
	stop, cancel := context.CancelFunc(func() {}), context.CancelFunc(func() {})
	var verErr error
	if first {
		store = proStore{r.c}
		// A failed version ends the look: its reads are not waited for.
		readCtx, stop = context.WithCancel(ctx)
		findCtx, cancel = context.WithCancel(readCtx)
		wg.Go(func() {
			v, err := r.c.Version(ctx)
			if err != nil {
				stop()
			} else if !v.ModernPackages() {
				cancel()
			}
			r.v, verErr = v, err
		})
	}
	defer stop()
	defer cancel()
	if r.listsJCDS() {
		if files, ok := r.takeSeen(); ok {
			rd.files = files
		} else {
			wg.Go(func() { rd.files, rd.listErr = r.c.ListJCDS(readCtx) })
		}
	}
	wg.Go(func() { rd.rec, rd.findErr = store.find(findCtx, r.req.PkgName, r.req.DisplayName, r.log) })
	wg.Wait()
	if verErr != nil {
		return reads{}, verErr
	}
	if first {
		r.log.Logf(1, "Jamf Pro %s at %s", r.v.Raw, r.req.URL)
		r.store = newRecordStore(r.c, r.v)
		if _, pro := r.store.(proStore); !pro {
			rd.rec, rd.findErr = r.store.find(ctx, r.req.PkgName, r.req.DisplayName, r.log)
		}
	}
	return rd, nil
}

// listsJCDS reports whether the route rule wants the JCDS listing: the
// detection of JCDS 2.0 (one request the run needs anyway, and the file
// list on that route), unless the route was chosen otherwise or JCDS
// refused in an earlier round (facts.refused, a fact for the rest of
// the run).
func (r *run) listsJCDS() bool {
	return (r.req.Route == RouteAuto || r.req.Route == RouteJCDS2) && r.learned.refused == nil
}

// seenListing is the JCDS listing in which the wait for this run's
// upload saw the uploaded bytes (awaitFile), and the count of Jamf Pro
// requests the run had made then.
type seenListing struct {
	files []jamf.FileData
	calls int
}

// saw keeps the listing the wait for an upload ended on, for the next
// look (takeSeen).
func (r *run) saw(files []jamf.FileData) {
	r.seen = &seenListing{files: files, calls: r.c.Calls()}
}

// takeSeen hands the next look the listing the wait ended on, once. It
// is still what JCDS holds as far as this run can know: the upload ends
// the round, the listing was read last, and no request of this run has
// gone to Jamf Pro since (no delete, no other upload: the count is the
// same), so listing again would be the same question a round trip
// later. What other runs do between the two moments is no more seen by
// a fresh listing than by this one: a record write that meets another
// run's is a conflict, and the engine looks again (errReobserve) with a
// fresh listing. The record is looked up afresh: the wait did not see
// it, and the upload took long enough for another run to write it.
func (r *run) takeSeen() ([]jamf.FileData, bool) {
	s := r.seen
	r.seen = nil
	if s == nil || s.calls != r.c.Calls() {
		return nil, false
	}
	return s.files, true
}

// chooseRoute follows the route rule (DecideRoute, route.go) with what
// the look read (the JCDS listing is the detection); cdnType is read
// only on the way to the packages route.
func (r *run) chooseRoute(ctx context.Context, w *world, rd reads) ([]jamf.FileData, error) {
	f := &r.route
	f.Asked, f.Modern, f.Version, f.URL = r.req.Route, r.v.ModernPackages(), r.v.Raw, r.c.URL()
	f.Refused = r.learned.refused
	files := rd.files
	f.JCDS = rd.listErr
	d := DecideRoute(*f)
	if d.NeedCDN {
		f.CDN, f.CDNErr = r.c.CDNType(ctx)
		f.CDNRead = true
		if f.CDNErr != nil && jamf.IsStatus(f.CDNErr, 403, 404) {
			r.log.Logf(2, "Could not read the cloud distribution point (%v); going on", f.CDNErr)
		}
		d = DecideRoute(*f)
	}
	if d.Err != nil {
		return nil, d.Err
	}
	w.route = d.Route
	switch d.Reason {
	case ReasonAsked:
		w.why = "asked for"
		if f.Asked == RouteElsewhere {
			w.why = "the distribution points the inputs name, without the cloud one"
		}
	case ReasonJCDSAnswers:
		w.why = "Jamf Cloud distribution point"
		if f.Asked == RouteJCDS2 {
			w.why = "asked for"
		}
	case ReasonJCDSRefused:
		w.why = Lacked(d.Refusal, f.CDN)
		if !r.announced {
			// One line, at every verbosity: the run goes on, on the
			// supported route.
			r.announced = true
			if f.Asked == RouteJCDS2 {
				r.log.Logf(0, "JCDS 2.0 was asked for, but %s: using the packages upload route instead", w.why)
			} else {
				r.log.Logf(0, "Using the packages upload route: %s", w.why)
			}
		}
	}
	return files, nil
}

// errReobserve makes the reconciler look again (the route changed, or
// another run got there first).
var errReobserve = errors.New("observe again")

// orphans keeps the Name_N duplicates that no package record names: a
// file a record names is a package of its own (Office_2019.pkg beside
// Office.pkg), never a duplicate.
func (r *run) orphans(ctx context.Context, cands []jamf.FileData) ([]jamf.FileData, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	var names []string
	for _, f := range cands {
		names = append(names, f.FileName)
	}
	named, err := r.store.named(ctx, names)
	if err != nil {
		return nil, err
	}
	var out []jamf.FileData
	for _, f := range cands {
		if !named[f.FileName] {
			out = append(out, f)
		}
	}
	return out, nil
}

func findFile(name string, files []jamf.FileData) *jamf.FileData {
	for i := range files {
		if files[i].FileName == name {
			return &files[i]
		}
	}
	return nil
}
