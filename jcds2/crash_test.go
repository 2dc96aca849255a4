package jcds2

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// Crash points derived from the plan: each cell's clean run is counted
// action by action; then, for every action boundary, a fresh world, a
// run stopped there (nothing after it happens, as after SIGKILL), a
// plain re-run, and the converged state: the record's hash describes
// the local bytes and every destination holds them (the simulator's
// oracle judges the cloud routes). The fake third kind of destination
// (memDest) is used exactly as a file share is.

var errCrash = errors.New("crashed here")

type crashCell struct {
	name    string
	cfg     jamfsim.Config
	route   Route
	dests   string // "share,fake"
	replace bool   // an earlier version is there; the run replaces it
	// setup: "foreign" puts another file of the name on the destinations
	// first (no record names it; the run replaces it); "added": the
	// package was uploaded without the destinations, which are new.
	setup string
}

var crashCells = []crashCell{
	{"shares only, new", jamfsim.Config{}, RouteElsewhere, "share,fake", false, ""},
	{"shares only, replace", jamfsim.Config{}, RouteElsewhere, "share,fake", true, ""},
	{"shares only, Classic, new", jamfsim.Config{NoJCDS: true, Version: "11.4.0"}, RouteElsewhere, "share,fake", false, ""},
	{"shares only, Classic, replace", jamfsim.Config{NoJCDS: true, Version: "11.4.0"}, RouteElsewhere, "share,fake", true, ""},
	{"JCDS and a share, new", jamfsim.Config{}, RouteAuto, "share", false, ""},
	{"JCDS and a share, replace", jamfsim.Config{}, RouteAuto, "share", true, ""},
	{"packages route and the fake, new", jamfsim.Config{}, RoutePackages, "fake", false, ""},
	{"packages route and the fake, replace", jamfsim.Config{}, RoutePackages, "fake", true, ""},
	{"shares only, a foreign file there", jamfsim.Config{}, RouteElsewhere, "share,fake", false, "foreign"},
	{"JCDS, a share added to an uploaded package", jamfsim.Config{}, RouteAuto, "share,fake", false, "added"},
}

type crashWorld struct {
	sim   *jamfsim.Server
	pkg   string
	share string // the share's Packages folder
	fake  *memDest
	req   *Request
}

func newCrashWorld(t *testing.T, c crashCell) *crashWorld {
	sim, err := jamfsim.New(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cw := &crashWorld{sim: sim, pkg: filepath.Join(t.TempDir(), "Crash.pkg"), fake: newMemDest("fake store")}
	writeBytes(t, cw.pkg, 1)
	cw.req = roundsReq(t, sim, cw.pkg)
	cw.req.Route = c.route
	for _, k := range strings.Split(c.dests, ",") {
		switch k {
		case "share":
			root := t.TempDir()
			cw.share = filepath.Join(root, "Packages")
			if err := os.Mkdir(cw.share, 0o755); err != nil {
				t.Fatal(err)
			}
			cw.req.Destinations = append(cw.req.Destinations, &distpoint.ShareDest{Share: distpoint.Share{Input: "SMB_URL", URL: "file://" + root}})
		case "fake":
			cw.req.Destinations = append(cw.req.Destinations, dest.Destination(cw.fake))
		}
	}
	switch c.setup {
	case "foreign":
		foreign := filepath.Join(t.TempDir(), "Crash.pkg")
		writeBytes(t, foreign, 9)
		b, _ := os.ReadFile(foreign)
		os.WriteFile(filepath.Join(cw.share, "Crash.pkg"), b, 0o644)
		cw.fake.write("Crash.pkg", b)
		cw.req.Replace = true
	case "added":
		dests := cw.req.Destinations
		cw.req.Destinations = nil
		if _, err := NewEngine().Upload(context.Background(), cw.req, &lineLog{}); err != nil {
			t.Fatalf("the upload without destinations: %v", err)
		}
		cw.req.Destinations = dests
	}
	if c.replace {
		if _, err := NewEngine().Upload(context.Background(), cw.req, &lineLog{}); err != nil {
			t.Fatalf("the first version: %v", err)
		}
		writeBytes(t, cw.pkg, 2)
		cw.req.Replace = true
	}
	return cw
}

// run runs the engine, stopping before action number stop (-1: never),
// and returns how many actions it began.
func (cw *crashWorld) run(stop int) (int, error) {
	n := 0
	e := NewEngine()
	e.boundary = func() error {
		if n == stop {
			return errCrash
		}
		n++
		return nil
	}
	_, err := e.Upload(context.Background(), cw.req, &lineLog{})
	return n, err
}

func (cw *crashWorld) converged(t *testing.T, c crashCell) {
	t.Helper()
	want, err := os.ReadFile(cw.pkg)
	if err != nil {
		t.Fatal(err)
	}
	if cw.share != "" {
		if got, _ := os.ReadFile(filepath.Join(cw.share, "Crash.pkg")); !bytes.Equal(got, want) {
			t.Errorf("the share does not hold the local bytes (%d bytes)", len(got))
		}
		if left, _ := filepath.Glob(filepath.Join(cw.share, ".jcds2-partial-*")); len(left) > 0 && c.route == RouteElsewhere {
			// A copy stopped before its rename leaves a temporary file for
			// a later run to sweep; never under the package's name.
			t.Logf("temporary files left: %v", left)
		}
	}
	if strings.Contains(c.dests, "fake") && !bytes.Equal(cw.fake.holds("Crash.pkg"), want) {
		t.Errorf("the fake destination does not hold the local bytes")
	}
	if c.route != RouteElsewhere {
		converged(t, cw.sim, cw.pkg)
		return
	}
	h, err := HashFile(cw.pkg, true, true)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range cw.sim.Packages() {
		if p.FileName != "Crash.pkg" {
			continue
		}
		found = append(found, p.ID)
		typ, val := deref(p.HashType), deref(p.HashValue)
		if !(typ == "SHA3_512" && SameHash(val, h.SHA3) || typ == "MD5" && SameHash(val, h.MD5)) {
			t.Errorf("record %s claims %s %q, not the local bytes", p.ID, typ, short(val))
		}
	}
	if len(found) != 1 {
		t.Errorf("%d records name Crash.pkg, want 1", len(found))
	}
}

// truthful: where the run stopped, a record naming the package claims
// no hash, or one that every destination holding a file of that name
// holds. (Not on Classic servers: see planDests.)
func (cw *crashWorld) truthful(t *testing.T, stop int) {
	t.Helper()
	for _, p := range cw.sim.Packages() {
		if p.FileName != "Crash.pkg" || deref(p.HashValue) == "" {
			continue
		}
		var held [][]byte
		if cw.share != "" {
			if b, err := os.ReadFile(filepath.Join(cw.share, "Crash.pkg")); err == nil {
				held = append(held, b)
			}
		}
		if b := cw.fake.holds("Crash.pkg"); b != nil {
			held = append(held, b)
		}
		for _, b := range held {
			f := filepath.Join(t.TempDir(), "held")
			os.WriteFile(f, b, 0o644)
			h, err := HashFile(f, true, true)
			if err != nil {
				t.Fatal(err)
			}
			if val := deref(p.HashValue); !SameHash(val, h.SHA3) && !SameHash(val, h.MD5) {
				t.Fatalf("stopped before action %d: record %s claims %s %s, which a destination does not hold", stop, p.ID, deref(p.HashType), short(val))
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestCrashAtEveryActionBoundary(t *testing.T) {
	for _, c := range crashCells {
		t.Run(c.name, func(t *testing.T) {
			total, err := newCrashWorld(t, c).run(-1)
			if err != nil || total == 0 {
				t.Fatalf("the clean run: %d actions, %v", total, err)
			}
			for stop := 0; stop < total; stop++ {
				cw := newCrashWorld(t, c)
				if _, err := cw.run(stop); !errors.Is(err, errCrash) {
					t.Fatalf("stop before action %d: %v", stop, err)
				}
				if c.cfg.Version == "" {
					cw.truthful(t, stop)
				}
				if _, err := cw.run(-1); err != nil {
					t.Fatalf("the run after a stop before action %d of %d: %v", stop, total, err)
				}
				cw.converged(t, c)
				if t.Failed() {
					t.Fatalf("not converged after a stop before action %d of %d", stop, total)
				}
			}
			t.Logf("%d action boundaries, every one converged", total)
		})
	}
}
