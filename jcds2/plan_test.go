package jcds2

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// The planner's table: the cross product of what a run can find, and
// the plan each cell must give. The expected plans are written out by
// hand, not computed: they are the specification.

const (
	name     = "Firefox-120.pkg"
	localMD5 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	otherMD5 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var (
	localSHA3 = strings.Repeat("a", 128)
	otherSHA3 = strings.Repeat("b", 128)
)

func rec(kind string) *record {
	r := &record{id: "7", fileName: name, display: name, hashType: "SHA3_512", hashValue: localSHA3, status: "READY", size: "52MB"}
	switch kind {
	case "none":
		return nil
	case "ok":
	case "stale":
		r.hashValue = otherSHA3
	case "nohash": // never processed (or its file is gone): no hash, not READY
		r.hashType, r.hashValue, r.status, r.size = "", "", "PENDING", ""
	case "pending": // right hash, but never refreshed: PENDING, no size
		r.status, r.size = "PENDING", ""
	case "otherfile": // found by display name; it names another file
		r.fileName = "Firefox-119.pkg"
	case "unhashed": // READY, but Jamf computed no hash (a very large package)
		r.hashType, r.hashValue, r.size = "", "", "10.85 GB"
	case "case": // the server matched the name ignoring case
		r.fileName = strings.ToUpper(name)
	case "casestale": // ...and it holds other bytes
		r.fileName, r.hashValue = strings.ToUpper(name), otherSHA3
	case "classic": // Classic API (before 11.5): MD5, no status or size
		r.hashType, r.hashValue, r.status, r.size = "MD5", localMD5, "", ""
		r.classic = &classicxml.Package{ID: 7, Name: name, Filename: name, HashType: "MD5", HashValue: localMD5}
	case "classicstale":
		r.hashType, r.hashValue, r.status, r.size = "MD5", otherMD5, "", ""
		r.classic = &classicxml.Package{ID: 7, Name: name, Filename: name, HashType: "MD5", HashValue: otherMD5}
	default:
		panic(kind)
	}
	return r
}

func file(kind string) *jamf.FileData {
	switch kind {
	case "none":
		return nil
	case "same":
		return &jamf.FileData{FileName: name, MD5: strings.ToUpper(localMD5), SHA3: localSHA3}
	case "other":
		return &jamf.FileData{FileName: name, MD5: otherMD5, SHA3: otherSHA3}
	case "unhashed": // JCDS lists it with our size and no hash (very large)
		return &jamf.FileData{FileName: name, Length: 1 << 20}
	}
	panic(kind)
}

// summary writes a plan compactly: D delete stale, A await an
// earlier upload, U upload, Pn put on destination n, C create,
// W write (m metadata, h set hash, x clear hash), X remove duplicate,
// F refresh, V verify; "!" marks a diverged plan, "?" an unhashed one,
// "~" one whose upload JCDS has not yet listed; a trailing ">" a plan
// after whose last step the engine observes and plans again.
func summary(p *Plan) string {
	var parts []string
	for _, a := range p.actions {
		switch a.kind {
		case actDeleteStale:
			parts = append(parts, "D")
		case actAwaitEarlier:
			parts = append(parts, "A")
		case actUpload:
			parts = append(parts, "U")
		case actWriteRecord:
			s := "W"
			if a.create {
				s = "C"
			}
			if a.metadata && !a.create {
				s += "m"
			}
			if a.setHash {
				s += "h"
			}
			if a.clearHash {
				s += "x"
			}
			parts = append(parts, s)
		case actRemoveDuplicate:
			parts = append(parts, "X:"+a.name)
		case actRefresh:
			parts = append(parts, "F")
		case actVerify:
			parts = append(parts, "V")
		case actPut:
			parts = append(parts, fmt.Sprintf("P%d", a.dest))
		}
	}
	out := strings.Join(parts, " ")
	if p.Again {
		out += " >" // the engine looks again after the last step
	}
	if p.Pending {
		out = "~" + out
	}
	if p.Diverged {
		out = "!" + out
	}
	if p.Unhashed {
		out = "?" + out
	}
	if p.Refusal != nil {
		out = "refused" + out
	}
	return out
}

// planCell is one cell of the planner's table: a world and the plan it
// must give. The crash test (crash_test.go) drives the real engine
// through every cell and stops it at each of the plan's actions.
type planCell struct {
	route       Route
	rec, file   string
	flags, want string // flags: r replace, m replace metadata, s skip metadata; facts of earlier rounds: d this run uploaded, p ...not yet listed, w waited, l lost to the file's bytes
	// file: the JCDS file (J route), then "|" and the destinations
	// (destination_test.go: sh a share, s3 the S3 point, fk the fake
	// third kind; each :none :same :other :mine (this run put the
	// local bytes) :lost (this run put them; now another's) :torn)
}

func (c planCell) String() string {
	return fmt.Sprintf("%s, record %s, file %s, flags %q", c.route, c.rec, c.file, c.flags)
}

func planCells() []planCell {
	J, P, E := RouteJCDS2, RoutePackages, RouteElsewhere
	return []planCell{
		// JCDS route: nothing there yet; then every record state with the
		// file absent, holding our bytes, holding other bytes. An upload
		// ends the round (">"): it waits until JCDS lists the bytes, and
		// the record is planned from what the next look sees ("d": this
		// run uploaded).
		{J, "none", "none", "", "U >"},
		{J, "none", "same", "d", "Ch F V"},
		{J, "none", "same", "", "Ch F V"},
		{J, "none", "other", "", "D U >"}, // a file no record names is replaced
		{J, "none", "other", "s", "D U >"},
		{J, "none", "same", "ds", "Ch F V"},
		{J, "ok", "same", "", ""},
		{J, "ok", "same", "r", ""},        // identical bytes are never re-sent
		{J, "ok", "same", "m", "Wmh F V"}, // metadata only
		{J, "ok", "same", "s", ""},        //
		{J, "ok", "none", "", "A >"},      // the file is gone (or still processing): first wait for an earlier upload ("w")
		{J, "ok", "none", "w", "U >"},     // ...then upload, without replace_pkg
		{J, "ok", "same", "w", ""},        // ...unless it came
		{J, "ok", "same", "d", "Wmh F V"}, // after an upload: the metadata, as JamfPackageUploader writes it
		{J, "ok", "none", "r", "U >"},
		{J, "ok", "none", "s", "A >"},
		{J, "ok", "none", "ws", "U >"},
		{J, "ok", "same", "ds", "F V"}, // skip_metadata: no record write, a refresh after the upload
		{J, "ok", "other", "", "!F"},   // JCDS holds other bytes: not ours to replace, but the record must not claim ours
		{J, "ok", "other", "r", "D U >"},
		{J, "ok", "other", "w", "!F"},      // an earlier upload of other bytes came: not ours to replace
		{J, "stale", "same", "", "Wh F V"}, // a killed replace: the file has our bytes, the record lies
		{J, "stale", "same", "s", "F V"},   // the refresh alone corrects it
		{J, "stale", "same", "m", "Wmh F V"},
		{J, "stale", "same", "rd", "Wmh F V"},
		{J, "stale", "same", "rds", "F V"},
		{J, "stale", "other", "", "!"}, // record describes the file there (other bytes): nothing to fix
		{J, "stale", "other", "r", "D U >"},
		{J, "stale", "none", "", "U >"},
		{J, "nohash", "same", "", "Wh F V"},
		{J, "nohash", "same", "d", "Wmh F V"},
		{J, "nohash", "none", "", "A >"},
		{J, "nohash", "none", "r", "U >"},
		{J, "stale", "none", "r", "U >"},
		{J, "nohash", "other", "", "!F"}, // a record claiming nothing beside other bytes: refresh makes it true
		{J, "nohash", "other", "r", "D U >"},
		{J, "pending", "same", "", "F V"}, // "Availability Pending": only a refresh
		{J, "pending", "same", "s", "F V"},
		{J, "otherfile", "same", "", "Wmh F V"},  // points the record at our file
		{J, "otherfile", "same", "s", "refused"}, // ...and told not to touch it: the run fails, having written nothing
		{J, "otherfile", "none", "s", "refused"}, // (an upload would have no record)
		{J, "otherfile", "none", "", "U >"},      // its hash is ours, but it names another file: no earlier upload to wait for
		{J, "case", "same", "", "Wmh F V"},
		{J, "ok", "unhashed", "", "?"},
		{J, "ok", "unhashed", "r", "D U >"},
		{J, "case", "none", "r", "U >"},
		// A Classic server (before 11.5) shows no status: every run
		// refreshes, so a record created after its JCDS upload (or
		// whose run was killed before the refresh) is not left pending.
		{J, "classic", "same", "", "F V"},
		// JCDS did not list this run's upload within the verify timeout
		// ("p"): no second upload (JCDS would make Name_1), the record
		// claiming no hash, a refresh, nothing verified.
		{J, "none", "none", "p", "~C F"},
		{J, "ok", "none", "p", "~Wm F"},
		{J, "stale", "unhashed", "p", "~Wm F"},
		{J, "ok", "same", "p", "Wmh F V"}, // it came after all
		{J, "ok", "other", "d", "!F"},     // other bytes after this run's upload (and not lost): not replaced again
		// Another run's upload took the name from this run's (l): replace_pkg
		// or not, no record for it, the winner's bytes are left alone.
		{J, "ok", "other", "rl", "!F"},
		{J, "none", "other", "rl", "!"},
		{J, "ok", "same", "rl", ""},
		{J, "stale", "other", "dl", "!"},                        // ...found while verifying: the record claims the winner's hash, which describes its file
		{J, "ok", "none", "rl", "!"},                            // ...even when the name holds nothing by now: a run that lost never uploads again
		{J, "ok", "other+same", "rl", "!X:Firefox-120_1.pkg F"}, // ...and the copy JCDS made of this run's bytes goes
		// A Name_1 copy that no record names goes only when its bytes are
		// known to be ours (or the file's): two unknown hashes are not
		// the same bytes.
		// file "F+C": the file is F and a Name_1 copy is C.
		{J, "ok", "same+same", "", "X:Firefox-120_1.pkg F V"},
		{J, "ok", "same+other", "", ""},
		{J, "ok", "unhashed+unhashed", "", "?"},
		{J, "ok", "same+unhashed", "", ""},
		{J, "ok", "other+other", "", "!X:Firefox-120_1.pkg F"}, // a copy of the file there, whoever's it is

		// Packages route: the record is the only view of the file.
		{P, "none", "none", "", "C U F V"},
		{P, "none", "none", "s", "C U F V"},
		{P, "ok", "none", "", ""},
		{P, "ok", "none", "r", ""},
		{P, "ok", "none", "m", "Wm F V"},
		{P, "ok", "none", "s", ""},
		{P, "stale", "none", "", "!"},
		{P, "stale", "none", "r", "Wmx U F V"}, // the record claims no hash while its file changes
		{P, "stale", "none", "rs", "U F V"},
		{P, "stale", "none", "m", "!Wm F"},
		{P, "nohash", "none", "", "Wmx U F V"}, // file missing or never processed
		{P, "unhashed", "none", "", "?"},       // READY, no hash: not sent again, not verified
		{P, "unhashed", "none", "m", "?Wm F"},
		{P, "unhashed", "none", "r", "Wmx U F V"},
		{P, "pending", "none", "", "F V"},
		{P, "otherfile", "none", "", "Wmx U F V"},
		{P, "otherfile", "none", "s", "refused"}, // Jamf Pro would refuse the name (INVALID_FILE_NAME)
		{P, "case", "none", "", "Wmx U F V"},
		// With skip_metadata the record keeps its name: it holds our
		// bytes already, or the upload goes under its name (Jamf Pro
		// refuses any other: INVALID_FILE_NAME).
		{P, "case", "none", "s", ""},
		{P, "casestale", "none", "rs", "U F V"},
		{P, "casestale", "none", "s", "!"},
		{P, "casestale", "none", "r", "Wmx U F V"},

		// Destinations only: file shares (no cloud inventory) or a
		// self-hosted S3 distribution point (refresh). Every destination
		// holds the local bytes before the record claims them.
		{E, "none", "|sh:same", "", "Ch"},
		{E, "none", "|s3:same", "", "Ch F V"},
		{E, "ok", "|sh:same", "", ""},
		{E, "ok", "|sh:mine", "", "Wmh"}, // after this run's copy, the metadata, as after an upload
		{E, "ok", "|sh:mine", "s", ""},
		{E, "stale", "|sh:mine", "s", "Wh"},
		{E, "ok", "|sh:same", "m", "Wmh"},
		{E, "stale", "|sh:same", "", "Wh"},
		{E, "stale", "|sh:same", "s", "Wh"}, // no refresh can correct it: the hash alone, even with skip_metadata
		{E, "nohash", "|sh:same", "s", "Wh"},
		{E, "stale", "|s3:same", "s", "F V"},
		{E, "nohash", "|sh:mine", "", "Wmh"},
		{E, "pending", "|s3:same", "", "F V"},
		{E, "otherfile", "|sh:same", "", "Wmh"},
		{E, "otherfile", "|sh:none", "s", "refused"}, // nothing copied either
		// Copies come first and end the round; the next look proves them.
		{E, "none", "|sh:none", "", "P0 >"},
		{E, "none", "|sh:none,s3:none", "", "P0 P1 >"},
		{E, "none", "|sh:mine,s3:mine", "", "Ch F V"},
		{E, "ok", "|sh:same,sh:none", "", "P1 >"},  // a share added: the record already describes the bytes
		{E, "stale", "|sh:other", "r", "Wx P0 >"},  // the record claims no hash while its files change
		{E, "stale", "|sh:other", "rs", "Wx P0 >"}, // even with skip_metadata: a hash alone
		{E, "stale", "|sh:other", "", "!"},
		{E, "ok", "|sh:other", "", "!"},
		// A foreign file of our name that no record names: replace_pkg
		// decides, and no record is written that would name it.
		{E, "none", "|sh:other", "", "!"},
		{E, "none", "|sh:other,sh:none", "", "!"},
		{E, "none", "|sh:other", "r", "P0 >"},
		{E, "none", "|s3:other", "", "!"},
		// Two writers: this run's copy was replaced by another's bytes.
		{E, "none", "|sh:lost", "", "!"},
		{E, "ok", "|sh:lost,sh:mine", "r", "!"},
		// A copy whose bytes are not the local package's any more.
		{E, "ok", "|sh:torn", "r", "!"},
		// Classic records (servers before 11.5): MD5.
		{E, "classic", "|sh:same", "", ""},
		{E, "classicstale", "|sh:same", "", "Wh"},
		{E, "classicstale", "|sh:none", "", "P0 >"}, // no clearing a Classic hash
		{E, "classic", "|sh:mine", "", "Wmh"},
		{E, "classicstale", "|sh:other", "r", "P0 >"},
		// Shares beside a cloud route: they first, then the cloud.
		{J, "none", "none|sh:none", "", "P0 >"},
		{J, "none", "none|sh:mine", "", "U >"},
		{J, "none", "same|sh:mine", "d", "Ch F V"},
		{J, "ok", "same|sh:other", "", "!"},
		{P, "none", "none|sh:none", "", "P0 >"},
		{P, "none", "none|sh:mine", "", "C U F V"},
		{P, "ok", "none|fk:none", "", "P0 >"}, // the fake third kind, unchanged
		{E, "none", "|fk:mine", "", "Ch"},
	}
}

// cellWorld is the world and request a cell describes.
func cellWorld(t *testing.T, c planCell) (*world, *Request) {
	req := &Request{PkgName: name, DisplayName: name, Replace: strings.Contains(c.flags, "r"),
		ReplaceMetadata: strings.Contains(c.flags, "m"), SkipMetadata: strings.Contains(c.flags, "s"),
	}
	jfile, dests, _ := strings.Cut(c.file, "|")
	w := &world{route: c.route, rec: rec(c.rec), local: &localFile{size: 1 << 20, Hashes: Hashes{MD5: localMD5, SHA3: localSHA3}}}
	w.dests = destStates(t, dests, w.local)
	for _, s := range w.dests {
		req.Destinations = append(req.Destinations, s.d)
	}
	if strings.Contains(c.flags, "l") {
		w.lostTo = otherMD5
	}
	w.uploaded = strings.ContainsAny(c.flags, "dp")
	w.pending = strings.Contains(c.flags, "p")
	w.waited = strings.Contains(c.flags, "w")
	if c.route == RouteJCDS2 {
		f, dup, _ := strings.Cut(jfile, "+")
		w.file = file(f)
		if dup != "" {
			d := *file(dup)
			d.FileName = "Firefox-120_1.pkg"
			w.dups = []jamf.FileData{d}
		}
	}
	return w, req
}

func TestPlanTable(t *testing.T) {
	for _, c := range planCells() {
		w, req := cellWorld(t, c)
		if got := summary(plan(w, req)); got != c.want {
			t.Errorf("%s: plan %q, want %q", c, got, c.want)
		}
	}
}

// Duplicates: only a Name_N file that no record names (observe drops
// those) and that holds bytes we manage is ever removed; a file with
// other bytes is never touched.
func TestPlanDuplicates(t *testing.T) {
	w := &world{route: RouteJCDS2, rec: rec("ok"), file: file("same"),
		local: &localFile{Hashes: Hashes{MD5: localMD5, SHA3: localSHA3}},
		dups: []jamf.FileData{
			{FileName: "Firefox-120_1.pkg", MD5: localMD5},
			{FileName: "Firefox-120_2.pkg", MD5: otherMD5}, // someone else's bytes: never touched
		}}
	for _, flag := range []bool{false, true} {
		p := plan(w, &Request{PkgName: name, DisplayName: name, RemoveDuplicates: flag})
		if got := summary(p); got != "X:Firefox-120_1.pkg F V" {
			t.Errorf("remove_duplicates %v: plan %q", flag, got)
		}
	}
	// A listing whose own file holds other bytes (not replaced): a copy
	// of those bytes is a copy of the file there, and goes too.
	w.file, w.rec = file("other"), rec("stale")
	w.dups = []jamf.FileData{{FileName: "Firefox-120_3.pkg", MD5: otherMD5}}
	if got := summary(plan(w, &Request{PkgName: name, DisplayName: name})); got != "!X:Firefox-120_3.pkg F" {
		t.Errorf("plan %q", got)
	}
}

// The engine's notes name no setting: what the user could change is a
// typed Hint, which the edge says in its own words.
func TestPlanNotesCarryHintsNotNames(t *testing.T) {
	w := &world{route: RoutePackages, rec: rec("stale"), local: &localFile{Hashes: Hashes{MD5: localMD5, SHA3: localSHA3}}}
	for _, c := range []struct {
		flags string
		hint  Hint
	}{{"", NeedsReplace}, {"r", ReplaceAllowed}} {
		p := plan(w, &Request{PkgName: name, DisplayName: name, Replace: c.flags == "r"})
		if len(p.Notes) != 1 || p.Notes[0].Hint != c.hint {
			t.Errorf("flags %q: notes %+v, want one with hint %v", c.flags, p.Notes, c.hint)
		}
		for _, n := range p.Notes {
			for _, input := range []string{"replace_pkg", "--replace", "skip_metadata", "pkg_"} {
				if strings.Contains(n.Text, input) {
					t.Errorf("note %q names %s", n.Text, input)
				}
			}
		}
	}
}

func TestPartPlanWithinS3Limits(t *testing.T) {
	for _, size := range []int64{0, 1, 8 << 20, 1 << 30, 16 << 30, 100 << 30, 1 << 40, 5 << 40} {
		for _, asked := range []int64{0, 5 << 20, 64 << 20} {
			ps, conc := partPlan(size, asked, 0)
			if parts := (size + ps - 1) / ps; parts > 10000 {
				t.Errorf("size %d, asked %d: %d parts of %d", size, asked, parts, ps)
			}
			if ps < 5<<20 || ps > 5<<30 || ps%(1<<20) != 0 || conc < 1 {
				t.Errorf("size %d: part size %d, concurrency %d", size, ps, conc)
			}
		}
	}
}
