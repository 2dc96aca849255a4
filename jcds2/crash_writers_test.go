package jcds2

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// The other writers and the JCDS timing of the crash worlds
// (crash_world_test.go): each acts at a request of the run (the
// simulator's BeforeJCDSList hook, a destination's put, settle), never at
// a time.

// settle lets a slow JCDS list every upload (the simulator takes them
// in now: IngestNow), then runs once more with time to wait: a run that
// found its upload unlisted says so and leaves the record claiming no
// hash; the next one, once JCDS has caught up, converges.
func (cw *crashWorld) settle(t *testing.T) {
	t.Helper()
	cw.sim.IngestNow(context.Background())
	vt := cw.req.VerifyTimeout
	cw.req.VerifyTimeout = 30 * time.Second
	defer func() { cw.req.VerifyTimeout = vt }()
	if _, err := cw.run(-1, nil); err != nil {
		t.Fatalf("the run once JCDS caught up: %v", err)
	}
}

// listLate makes JCDS take the first upload in at the listing after the
// first one that could have listed it: the wait's one look misses it,
// the next round's look finds it.
func (cw *crashWorld) listLate(t *testing.T) {
	var step atomic.Int32 // 0: no upload yet; 1: the wait's look was; 2: done
	ctx := context.Background()
	cw.sim.BeforeJCDSList(func() {
		switch step.Load() {
		case 0:
			if up, err := cw.sim.Processing(ctx); err == nil && len(up) > 0 {
				step.Store(1)
			}
		case 1:
			step.Store(2)
			cw.sim.IngestNow(ctx)
		}
	})
}

// takeOverAtRefresh sets up the other run that, just before this run's
// inventory refresh, replaces this run's upload on JCDS with its bytes
// and writes the record with their hash: this run's verify finds the
// record claiming them, and JCDS holding them.
func (cw *crashWorld) takeOverAtRefresh(t *testing.T) {
	theirs := bytesOf(t, 13)
	h := hashesOf(t, theirs)
	cw.sim.Before("POST /api/v1/cloud-distribution-point/refresh-inventory", 1, func() {
		if err := cw.sim.PutFile(context.Background(), name, theirs); err != nil {
			t.Errorf("the other run's upload: %v", err)
		}
		for id, p := range cw.sim.Packages() {
			if p.FileName == name {
				p.HashType, p.HashValue = ptrTo("SHA3_512"), ptrTo(h.SHA3)
				cw.sim.ReplacePackage(id, p)
			}
		}
	})
}

// replaceAtRecordWrite sets up the other run that replaces this run's
// upload, once JCDS has listed it, just before this run writes the
// record: the write meets that run's (409, a conflict), and this run
// looks again, afresh.
func (cw *crashWorld) replaceAtRecordWrite(t *testing.T) {
	theirs := bytesOf(t, 13)
	cw.sim.FailBefore("PUT /api/v1/packages/", 409, 1, func() {
		if err := cw.sim.PutFile(context.Background(), name, theirs); err != nil {
			t.Errorf("the other run's upload: %v", err)
		}
	})
}

// replaceOnce sets up the other run that replaces this run's upload on
// JCDS with its own bytes (JCDS keeping no copy of ours), once, within
// the listing whose ingest takes ours in ("taken").
func (cw *crashWorld) replaceOnce(t *testing.T, local []byte) {
	theirs := bytesOf(t, 13) // neither ours nor the start's other bytes
	ours := md5hex(local)
	mode := cw.start.replaced
	var step atomic.Int32 // 0: waiting for ours; 1: the next look; 2: done
	ctx := context.Background()
	put := func(n string, b []byte) {
		if err := cw.sim.PutFile(ctx, n, b); err != nil {
			t.Errorf("the other run's upload: %v", err)
		}
	}
	cw.sim.BeforeJCDSList(func() {
		switch step.Load() {
		case 0:
			cw.sim.Ingest(ctx)
			if f, ok := cw.sim.Files()[name]; !ok || !strings.EqualFold(f.MD5, ours) {
				return
			}
			put(name, theirs)
			step.Store(2)
			if mode == "taken, then gone" {
				put("Firefox-120_1.pkg", local)
				step.Store(1)
			}
		case 1:
			step.Store(2)
			cw.sim.RemoveFile(ctx, "Firefox-120_1.pkg")
			cw.sim.RemoveFile(ctx, name)
		}
	})
}

// racingDest is a destination another writer races: its first put meets
// another machine's bytes right after it ("lost").
type racingDest struct {
	dest.Destination
	race  string
	share string // the Packages folder, when the destination is the share
	other []byte
	done  bool
}

func (r *racingDest) Put(ctx context.Context, n string, src io.Reader, size int64) (dest.Holding, error) {
	if r.done {
		return r.Destination.Put(ctx, n, src, size)
	}
	r.done = true
	h, err := r.Destination.Put(ctx, n, src, size)
	if err == nil && r.race == "lost" {
		switch d := r.Destination.(type) {
		case *memDest:
			d.write(n, r.other)
		default:
			if r.share == "" {
				return h, fmt.Errorf("racingDest: lost is set up on a share or the fake only")
			}
			os.WriteFile(filepath.Join(r.share, n), r.other, 0o644)
		}
	}
	return h, err
}
