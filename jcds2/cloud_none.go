package jcds2

import (
	"context"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// noCloud is the route of no cloud: the destinations alone (file
// shares without the cloud distribution point, or a self-hosted S3
// bucket in its place) stand for the distribution point. Once every one
// holds the local bytes (planDests), the record may say so.
type noCloud struct{}

// observe: the destinations were observed, with the hashes they need.
func (noCloud) observe(context.Context, *run, *world) error { return nil }

func (noCloud) plan(w *world, req *Request, p *Plan) {
	if a, ok := recordWrite(w, req, w.putThisRun(), true, p); ok {
		a.kind, a.setHash = actWriteRecord, true
		p.add(a)
	}
}

func (noCloud) owns(actionKind) bool { return false }
func (noCloud) apply(context.Context, *run, *world, *Plan, action) (facts, error) {
	return facts{}, nil
}
func (noCloud) describe(action, *world) string     { return "" }
func (noCloud) foresee(*run, *world, action) error { return nil }

func (noCloud) held(*world) dest.Holding { return dest.Holding{} }

// refreshes: only a self-hosted bucket in the cloud's place is taken
// stock of by Jamf Pro; file shares are not.
func (noCloud) refreshes(w *world) bool { return w.cloudDest() }

// proven: plan reaches the record only when every destination was seen
// to hold the local bytes.
func (noCloud) proven(w *world) bool {
	for _, s := range w.dests {
		if !s.holds(w.local) {
			return false
		}
	}
	return len(w.dests) > 0
}
