package jcds2

import (
	"context"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// A cloud is the route by which Jamf Pro's own distribution point gets
// the package, beside the destinations (destination.go):
//
//	cloud_jcds.go      JCDS 2.0: S3 credentials, a listing with hashes
//	cloud_packages.go  POST /api/v1/packages/{id}/upload: the record is its view
//	cloud_none.go      none: the destinations alone stand for it
//
// Each says what it sees (observe), the plan cells it adds once every
// destination holds the local bytes (plan: pure), runs its own actions
// (apply: executes, never decides), and says them for a dry run. The
// route rule (DecideRoute) picks one each round; plan, apply, verify and
// the dry run never switch on the route. A new route is a Route value,
// the rule's case for it, its file implementing cloud, and its cells in
// the plan table (cloud_fake_test.go sketches one).
type cloud interface {
	// observe adds what the route holds for Request.PkgName to w (the
	// destinations and the record are already in w), and makes the
	// local hashes known that comparing it needs. It writes nothing.
	observe(ctx context.Context, r *run, w *world) error
	// plan adds the route's actions to p: the upload, the record write,
	// and what only this route has (a stale file out first, copies out).
	// The refresh and verify that follow are the engine's (plan.go).
	plan(w *world, req *Request, p *Plan)
	// apply runs one of the route's own actions (owns reports which),
	// and returns what it learned for the next look.
	apply(ctx context.Context, r *run, w *world, p *Plan, a action) (facts, error)
	owns(k actionKind) bool
	// describe says one of its actions as a dry run prints it.
	describe(a action, w *world) string
	// foresee turns next (a copy of w) into what the next look would see
	// once a, the last action of a plan that looks again, has run: the
	// dry run's prediction of the following rounds.
	foresee(r *run, next *world, a action) error
	// held is what the route was seen to hold under the name, with its
	// hashes, when it lists files (JCDS); the zero Holding when the
	// record is its only view.
	held(w *world) dest.Holding
	// refreshes: Jamf Pro's inventory refresh takes stock of the file
	// (so it can make a record's hash true, and the record READY).
	refreshes(w *world) bool
	// proven: this round's look proved that the route holds the local
	// bytes; what verifies a record whose API shows no status (Classic).
	proven(w *world) bool
}

// relooker is a cloud that can look again at what it holds under the
// name in the middle of a round, cheaply (JCDS: one listing), for a wait
// that sees the record change under it (verify.go). A route whose record
// is its only view has nothing more to look at.
type relooker interface {
	holdsNow(ctx context.Context, r *run) (dest.Holding, error)
}

// clouds are the routes by the Route that DecideRoute picks.
var clouds = map[Route]cloud{
	RouteJCDS2:     jcdsCloud{},
	RoutePackages:  packagesCloud{},
	RouteElsewhere: noCloud{},
}

// cloud is the route this world was observed on.
func (w *world) cloud() cloud { return clouds[w.route] }
