package jcds2

import (
	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// predict lists, for a dry run, the writes of this plan and of the
// rounds that would follow it, in the order apply would run them. A plan
// that ends in a step needing a fresh look (Plan.Again) is followed by
// the plan for the world that step is meant to bring about: an upload
// JCDS lists with the local bytes, an earlier upload that never came.
func (r *run) predict(w *world, p *Plan) []string {
	out := p.Describe(r.req, w)
	for range maxRounds {
		if !p.Again {
			break
		}
		next := *w
		switch last := p.actions[len(p.actions)-1]; {
		case last.kind == actPut:
			// Each destination copied to holds the local bytes.
			if err := r.local.ensure(r.log, true, true); err != nil {
				return out
			}
			next.dests = append([]destState(nil), w.dests...)
			for _, a := range p.actions {
				if a.kind == actPut {
					h := Hashes{MD5: r.local.MD5, SHA3: r.local.SHA3}
					next.dests[a.dest].h = dest.Holding{Present: true, Size: r.local.size, Hashes: h}
					next.dests[a.dest].put = &putFact{hashes: h}
				}
			}
		case w.cloud().owns(last.kind):
			if err := w.cloud().foresee(r, &next, last); err != nil {
				return out
			}
		}
		w, p = &next, plan(&next, r.req)
		out = append(out, p.Describe(r.req, w)...)
	}
	return out
}
