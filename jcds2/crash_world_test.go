package jcds2

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// The worlds the crash test (crash_test.go) sets up: a plan table cell
// made real on the simulator, shares, the S3 point and the fake.

// crashStart is a world to set up: a cell with the run's own doings
// undone. race "lost" makes the destination's first put meet another
// writer, whose bytes replace ours right after the copy.
type crashStart struct {
	route   Route
	classic bool // a Classic server (before 11.5)
	rec     string
	file    string // the JCDS file kind, "+" the Name_1 copy's
	// arriving: an earlier run's upload of these bytes ("same", "other")
	// that JCDS lists a moment after this run begins.
	arriving string
	// slow: JCDS lists an upload only after the verify timeout.
	slow bool
	// late: JCDS lists this run's upload at the look after the wait for
	// it, which (a verify timeout under poll's 500 ms step) is one look:
	// the simulator takes it in at that request (BeforeJCDSList,
	// IngestNow), not at a time.
	late bool
	// winner: another run's upload of a third package lands just before
	// this run's upload completes.
	winner bool
	// unhashed: JCDS computes no hash for a file of the package's size
	// (the simulator's UnhashedAbove below it, as real JCDS for very
	// large packages): this run's upload, and a file "unhashed" set up
	// with the local bytes, are listed with no hash. A Name_1 copy
	// "unhashed" is a larger file of other bytes, unhashed either way.
	unhashed bool
	// replaced: another run's bytes replace this run's upload on JCDS,
	// JCDS keeping no copy of ours: "listed" after JCDS listed ours, just
	// before this run's record write, which meets that run's (409) and
	// makes the run look again; "taken" as JCDS takes ours in (so no
	// look ever lists ours). "taken, then gone" keeps a copy of ours as
	// Name_1 at first (the wait ends at that look), and before the next
	// look takes the copy out and deletes the name (a third run
	// replacing). The simulator's BeforeJCDSList hook acts at those
	// requests, not at a time.
	replaced string
	dests    []startDest
	flags    string // r replace, m replace metadata, s skip metadata
}

type startDest struct{ kind, held, race string }

func (s crashStart) String() string {
	var ds []string
	for _, d := range s.dests {
		item := d.kind + ":" + d.held
		if d.race != "" {
			item += " (" + d.race + ")"
		}
		ds = append(ds, item)
	}
	srv, file := "", s.file
	if s.classic {
		srv = " (Classic)"
	}
	if s.arriving != "" {
		file += " (" + s.arriving + " arriving)"
	}
	if s.slow {
		file += " (JCDS slow)"
	}
	if s.late {
		file += " (JCDS lists it a look late)"
	}
	if s.winner {
		file += " (another run's upload wins)"
	}
	if s.unhashed {
		file += " (JCDS hashes nothing this size)"
	}
	if s.replaced != "" {
		file += " (another run's bytes replace ours once " + s.replaced + ")"
	}
	if len(ds) > 0 {
		file += "|" + strings.Join(ds, ",")
	}
	return fmt.Sprintf("%s%s, record %s, file %s, flags %q", s.route, srv, s.rec, file, s.flags)
}

// startOf derives a cell's start, or says why there is none.
func startOf(c planCell) (crashStart, string) {
	jfile, dests, _ := strings.Cut(c.file, "|")
	s := crashStart{route: c.route, rec: c.rec, file: jfile, classic: strings.HasPrefix(c.rec, "classic")}
	for _, f := range c.flags {
		switch f {
		case 'r', 'm', 's':
			s.flags += string(f)
		case 'd': // this run uploaded: the file was not there
			switch jfile {
			case "same":
			case "other": // ...and another run's bytes replaced it after
				s.replaced = "listed"
			default:
				return s, "this run's upload is listed with other bytes: another upload must land between two requests"
			}
			s.file = "none"
		case 'p': // JCDS did not list this run's upload in time
			switch jfile {
			case "none":
				s.slow = true
			case "unhashed": // ...with a hash, ever: it lists it without
				s.file = "none"
			case "same": // ...and did at the next look
				s.file, s.late = "none", true
			default:
				return s, "JCDS must list this run's upload just after the verify timeout"
			}
		case 'w': // this run waited for an earlier upload
			if jfile != "none" { // ...which came
				s.file, s.arriving = "none", jfile
			}
		case 'l': // another run's upload took the name from this run's
			switch {
			case strings.Contains(c.flags, "d") && jfile == "other" && c.rec == "stale":
				// ...seen while verifying: the other run wrote the record
				// with its hash, its upload having replaced ours.
				s.file, s.rec, s.replaced = "none", "none", "while verifying"
			case !strings.Contains(c.flags, "r"):
				return s, "another run's upload must take the name from this run's, which did not replace"
			case jfile == "other+same":
				// This run replaces the file there; another run's upload
				// lands just before its own, which JCDS keeps as Name_1.
				s.file, s.winner = "other", true
			case jfile == "other":
				// This run replaces the file there; another run's bytes
				// replace its upload as JCDS takes it in.
				s.replaced = "taken"
			case jfile == "none":
				s.file, s.replaced = "other", "taken, then gone"
			default:
				return s, "another run's upload must take the name from this run's, leaving " + jfile
			}
		}
	}
	f, _, _ := strings.Cut(jfile, "+")
	s.unhashed = f == "unhashed"
	if dests != "" {
		for _, item := range strings.Split(dests, ",") {
			kind, held, _ := strings.Cut(item, ":")
			d := startDest{kind: kind, held: held}
			switch held {
			case "mine": // this run put the local bytes there
				d.held = "none"
			case "lost":
				d.held, d.race = "none", held
			case "torn":
				return s, "a copy of other bytes than the run hashed"
			}
			s.dests = append(s.dests, d)
		}
	}
	return s, ""
}

// crashWorld is one set-up start.
type crashWorld struct {
	sim    *jamfsim.Server
	start  crashStart
	pkg    string
	shares []string // the shares' Packages folders
	fake   *memDest
	s3     bool // the S3 point is the simulator's bucket, top level
	req    *Request
}

func newCrashWorld(t *testing.T, s crashStart) *crashWorld {
	t.Helper()
	cfg := jamfsim.Config{}
	if s.classic {
		// A Classic server; with JCDS 2.0 on the JCDS route.
		cfg = jamfsim.Config{NoJCDS: s.route != RouteJCDS2, Version: "11.4.0"}
	}
	for _, d := range s.dests {
		if d.kind == "s3" {
			cfg = jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"}
		}
	}
	if s.arriving != "" {
		cfg.IngestDelay = time.Second
	}
	if s.slow {
		cfg.IngestDelay = time.Hour // until settle takes the uploads in
	}
	if s.late {
		cfg.IngestDelay = time.Hour // until the hook takes it in
	}
	// The package is 1 MiB; an unhashed Name_1 copy 2 MiB.
	cfg.UnhashedAbove = 3 << 19
	if s.unhashed {
		cfg.UnhashedAbove = 1 << 19
	}
	sim, err := jamfsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	cw := &crashWorld{sim: sim, start: s, pkg: filepath.Join(dir, name), fake: newMemDest("fake store")}
	writeBytes(t, cw.pkg, 1)
	other := bytesOf(t, 9) // another package's bytes, of the same size
	local := bytesOf(t, 1)
	cw.req = roundsReq(t, sim, cw.pkg)
	cw.req.Route = s.route
	// The wait for an earlier upload that never comes ends after this
	// (the simulator lists an upload as soon as it completes, so no
	// upload of this run comes near it).
	cw.req.VerifyTimeout = 3 * time.Second
	if s.arriving != "" {
		cw.req.VerifyTimeout = 30 * time.Second // it comes after IngestDelay
	}
	if s.slow {
		cw.req.VerifyTimeout = time.Second
	}
	if s.late {
		cw.req.VerifyTimeout = 100 * time.Millisecond // one look each wait
	}
	cw.req.Replace = strings.Contains(s.flags, "r")
	cw.req.ReplaceMetadata = strings.Contains(s.flags, "m")
	cw.req.SkipMetadata = strings.Contains(s.flags, "s")
	ctx := context.Background()

	for _, d := range s.dests {
		var held []byte
		switch d.held {
		case "same":
			held = local
		case "other":
			held = other
		case "none":
		default:
			t.Fatalf("holding %q", d.held)
		}
		var dd dest.Destination
		share := ""
		switch d.kind {
		case "sh":
			root := t.TempDir()
			share = filepath.Join(root, "Packages")
			cw.shares = append(cw.shares, share)
			if err := os.Mkdir(share, 0o755); err != nil {
				t.Fatal(err)
			}
			if held != nil {
				if err := os.WriteFile(filepath.Join(share, name), held, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dd = &distpoint.ShareDest{Share: distpoint.Share{Input: "SMB_URL", URL: "file://" + root}}
		case "fk":
			if held != nil {
				cw.fake.write(name, held)
			}
			dd = cw.fake
		case "s3":
			// The S3 point is the simulator's own bucket, top level, as
			// its refresh sees it; the S3 server behind the simulator takes
			// any credentials.
			t.Setenv("AWS_ENDPOINT_URL_S3", sim.Backend().Endpoint())
			t.Setenv("AWS_ACCESS_KEY_ID", "crash-test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "crash-test-secret")
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
			cw.s3 = true
			if held != nil {
				if _, err := sim.Backend().Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sim.Config().Bucket),
					Key: aws.String(name), Body: strings.NewReader(string(held))}); err != nil {
					t.Fatal(err)
				}
			}
			dd = &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: sim.Config().Bucket, MaxTries: 2}}
		default:
			t.Fatalf("destination kind %q", d.kind)
		}
		if d.race != "" {
			dd = &racingDest{Destination: dd, race: d.race, share: share, other: other}
		}
		cw.req.Destinations = append(cw.req.Destinations, dd)
	}

	if s.route == RouteJCDS2 {
		f, dup, _ := strings.Cut(s.file, "+")
		for _, put := range []struct{ kind, name string }{{f, name}, {dup, "Firefox-120_1.pkg"}} {
			switch put.kind {
			case "", "none":
			case "same":
				mustPut(t, sim, put.name, local)
			case "other":
				mustPut(t, sim, put.name, other)
			case "unhashed":
				if put.name == name {
					mustPut(t, sim, put.name, local) // our upload, too large to hash
				} else {
					mustPut(t, sim, put.name, append(bytesOf(t, 9), bytesOf(t, 11)...))
				}
			default:
				t.Fatalf("JCDS file %q", put.kind)
			}
		}
	}
	if s.arriving != "" {
		// An earlier run's completed upload, not yet processed by JCDS.
		b := map[string][]byte{"same": local, "other": other}[s.arriving]
		if _, err := sim.Backend().Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sim.Config().Bucket),
			Key: aws.String("tmp/earlier-run/" + name), Body: strings.NewReader(string(b))}); err != nil {
			t.Fatal(err)
		}
	}
	if s.winner {
		// The other run's bytes are neither ours nor the stale file's.
		theirs := bytesOf(t, 13)
		arrived := sim.DelayNotify("PutObject", 2*time.Second, 1) // a 1 MiB upload is one PutObject
		stop := make(chan struct{})
		t.Cleanup(func() { close(stop) })
		go func() {
			select {
			case <-arrived:
				sim.PutFile(context.Background(), name, theirs)
			case <-stop:
			}
		}()
	}
	switch s.replaced {
	case "":
	case "while verifying":
		cw.takeOverAtRefresh(t)
	case "listed":
		cw.replaceAtRecordWrite(t)
	default:
		cw.replaceOnce(t, local)
	}
	if s.late {
		cw.listLate(t)
	}
	cw.addRecord(t, local, other)
	return cw
}

func mustPut(t *testing.T, sim *jamfsim.Server, name string, b []byte) {
	t.Helper()
	if err := sim.PutFile(context.Background(), name, b); err != nil {
		t.Fatal(err)
	}
}

// addRecord creates the record a plan table kind (rec in plan_test.go)
// describes.
func (cw *crashWorld) addRecord(t *testing.T, local, other []byte) {
	t.Helper()
	if cw.start.rec == "none" {
		return
	}
	lh, oh := hashesOf(t, local), hashesOf(t, other)
	p := jamfsim.Package{PackageName: name, FileName: name, CategoryID: "-1", Priority: 10,
		HashType: ptrTo("SHA3_512"), HashValue: ptrTo(lh.SHA3), CloudTransferStatus: "READY", Size: ptrTo("1 MB")}
	switch cw.start.rec {
	case "ok":
	case "stale":
		p.HashValue = ptrTo(oh.SHA3)
	case "nohash":
		p.HashType, p.HashValue, p.CloudTransferStatus, p.Size = nil, nil, "PENDING", ptrTo("")
	case "pending":
		p.CloudTransferStatus, p.Size = "PENDING", ptrTo("")
	case "otherfile":
		p.FileName = "Firefox-119.pkg"
	case "unhashed":
		p.HashType, p.HashValue, p.Size = nil, nil, ptrTo("10.85 GB")
	case "case":
		p.FileName = strings.ToUpper(name)
	case "casestale":
		p.FileName, p.HashValue = strings.ToUpper(name), ptrTo(oh.SHA3)
	case "classic":
		p.HashType, p.HashValue = ptrTo("MD5"), ptrTo(lh.MD5)
	case "classicstale":
		p.HashType, p.HashValue = ptrTo("MD5"), ptrTo(oh.MD5)
	default:
		t.Fatalf("record kind %q", cw.start.rec)
	}
	cw.sim.AddPackage(p)
}

func ptrTo(s string) *string { return &s }

func bytesOf(t *testing.T, seed byte) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "b")
	writeBytes(t, f, seed)
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hashesOf(t *testing.T, b []byte) Hashes {
	t.Helper()
	f := filepath.Join(t.TempDir(), "h")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := HashFile(f, true, true)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// run runs the engine, stopping before action number stop (-1: never);
// it returns how many actions it began, and hands each round to seen.
func (cw *crashWorld) run(stop int, seen func(w *world, p *Plan)) (int, error) {
	n := 0
	e := NewEngine()
	e.boundary = func() error {
		if n == stop {
			return errCrash
		}
		n++
		return nil
	}
	e.planned = seen
	_, err := e.Upload(context.Background(), cw.req, &lineLog{})
	return n, err
}

// localHashes of the package as it is now.
func (cw *crashWorld) localHashes(t *testing.T) Hashes {
	b, err := os.ReadFile(cw.pkg)
	if err != nil {
		t.Fatal(err)
	}
	return hashesOf(t, b)
}
