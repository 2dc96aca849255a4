package jcds2

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// A third cloud route, sketched in one file against cloud (cloud.go): a
// store that lists its files with their hashes and hashes what it
// receives as it stores it, so an upload is proven by the next look with
// no processing wait and no Name_N copies. Its plan cells are its own;
// the destinations before it, the refresh and verify after it, and the
// dry run's words come from the engine unchanged.
const routeSync Route = 100

func init() { clouds[routeSync] = syncCloud{} }

type syncCloud struct{}

// observe keeps the listing's entry of our name.
func (syncCloud) observe(_ context.Context, r *run, w *world) error {
	var mine []jamf.FileData
	if f := findFile(r.req.PkgName, w.listing); f != nil {
		mine = append(mine, *f)
	}
	w.listing = mine
	return nil
}

func (c syncCloud) plan(w *world, req *Request, p *Plan) {
	h := c.held(w)
	switch {
	case h.Present && h.Hashes.Matches(w.local.Hashes):
		if a, ok := recordWrite(w, req, w.uploaded, true, p); ok {
			a.setHash = true
			p.add(a)
		}
	case h.Present && !req.Replace:
		p.Diverged = true
		p.hint(NeedsReplace, "%s on the store holds other bytes; not replacing them.", req.PkgName)
	default:
		p.add(action{kind: actUpload, name: req.PkgName})
		p.Again = true // the next look proves what the store hashed
	}
}

func (syncCloud) owns(k actionKind) bool { return k == actUpload }
func (syncCloud) apply(context.Context, *run, *world, *Plan, action) (facts, error) {
	return facts{uploaded: true}, nil
}
func (syncCloud) describe(a action, w *world) string {
	return fmt.Sprintf("upload %s (%s) to the store", a.name, HumanBytes(w.local.size))
}
func (syncCloud) foresee(r *run, next *world, a action) error {
	next.listing = []jamf.FileData{{FileName: a.name, Length: r.local.size, MD5: r.local.MD5, SHA3: r.local.SHA3}}
	next.uploaded = true
	return nil
}
func (syncCloud) held(w *world) dest.Holding {
	if len(w.listing) == 0 {
		return dest.Holding{}
	}
	f := w.listing[0]
	return dest.Holding{Present: true, Size: f.Length, Hashes: Hashes{MD5: f.MD5, SHA3: f.SHA3}}
}
func (syncCloud) refreshes(*world) bool { return true }
func (c syncCloud) proven(w *world) bool {
	return c.held(w).Hashes.Matches(w.local.Hashes)
}

// The planner plans the third route with nothing else changed: its own
// cells, after the destinations, before the engine's refresh and verify.
func TestPlanThirdCloudRoute(t *testing.T) {
	cells := []struct {
		rec, file, flags, want string // file: the store's, "|" the destinations (as in TestPlanTable)
	}{
		{"none", "none", "", "U >"},
		{"none", "same", "d", "Ch F V"},
		{"ok", "same", "", ""},
		{"stale", "same", "", "Wh F V"},
		{"ok", "other", "", "!F"}, // the record must not claim our bytes: refreshed
		{"ok", "other", "r", "U >"},
		{"none", "none|fk:none", "", "P0 >"}, // the destinations first, unchanged
		{"none", "none|fk:mine", "", "U >"},
	}
	for _, c := range cells {
		req := &Request{PkgName: name, DisplayName: name, Replace: strings.Contains(c.flags, "r")}
		held, dests, _ := strings.Cut(c.file, "|")
		w := &world{route: routeSync, rec: rec(c.rec), local: &localFile{size: 1 << 20, Hashes: Hashes{MD5: localMD5, SHA3: localSHA3}}}
		if f := file(held); f != nil {
			w.listing = []jamf.FileData{*f}
		}
		w.dests = destStates(t, dests, w.local)
		for _, s := range w.dests {
			req.Destinations = append(req.Destinations, s.d)
		}
		w.uploaded = strings.Contains(c.flags, "d")
		p := plan(w, req)
		if got := summary(p); got != c.want {
			t.Errorf("record %s, store %s, flags %q: plan %q, want %q", c.rec, c.file, c.flags, got, c.want)
		}
		if p.has(actUpload) {
			if d := p.Describe(req, w); !strings.HasPrefix(d[len(d)-1], "upload "+name) || !strings.HasSuffix(d[len(d)-1], "to the store") {
				t.Errorf("dry run: %q", d)
			}
		}
	}
}
