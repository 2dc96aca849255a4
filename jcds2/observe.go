package jcds2

import (
	"context"
	"errors"
	"strings"

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
// size. The Classic API shows neither, so there it is taken as ready.
func (r *record) ready() bool {
	if r.classic != nil {
		return true
	}
	return r.status == "READY" && r.size != "" && r.size != "0"
}

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
	w := &world{version: r.v, local: r.local, facts: r.learned.copy()}
	files, err := r.chooseRoute(ctx, w)
	if err != nil {
		return nil, err
	}
	rec, err := r.store.find(ctx, r.req.PkgName, r.req.DisplayName, r.log)
	if err != nil {
		return nil, err
	}
	w.rec = rec
	w.listing = files
	if err := r.observeDests(ctx, w); err != nil {
		return nil, err
	}
	if err := w.cloud().observe(ctx, r, w); err != nil {
		return nil, err
	}
	return w, nil
}

// chooseRoute learns what the route rule (DecideRoute, route.go) needs,
// and follows it. The JCDS listing is the detection (one request the
// run needs anyway, and the file list on that route); cdnType is read
// only on the way to the packages route. A refusal met in an earlier
// round (facts.refused) stays a fact for the rest of the run.
func (r *run) chooseRoute(ctx context.Context, w *world) ([]jamf.FileData, error) {
	f := &r.route
	f.Asked, f.Modern, f.Version, f.URL = r.req.Route, r.v.ModernPackages(), r.v.Raw, r.c.URL()
	f.Refused = r.learned.refused
	var files []jamf.FileData
	f.JCDS = nil
	if (f.Asked == RouteAuto || f.Asked == RouteJCDS2) && f.Refused == nil {
		files, f.JCDS = r.c.ListJCDS(ctx)
	}
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
