package jcds2

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// How the crash test (crash_test.go) judges a world: what it holds, whether
// it is converged or truthful, and which plan table cell it is.

// state is what the world holds that a run could have changed: the
// records naming the package, every JCDS file, every destination.
func (cw *crashWorld) state(t *testing.T) string {
	t.Helper()
	var out []string
	for _, p := range cw.sim.Packages() {
		if strings.EqualFold(p.FileName, name) || p.PackageName == name || p.FileName == "Firefox-119.pkg" {
			out = append(out, fmt.Sprintf("record %s %s:%.16s %s", p.FileName, deref(p.HashType), deref(p.HashValue), p.CloudTransferStatus))
		}
	}
	for n, f := range cw.sim.Files() {
		out = append(out, fmt.Sprintf("jcds %s %.16s", n, strings.ToLower(f.MD5)))
	}
	for i, sh := range cw.shares {
		b, _ := os.ReadFile(filepath.Join(sh, name))
		out = append(out, fmt.Sprintf("share%d %s", i, md5hex(b)))
	}
	if b := cw.fake.holds(name); b != nil {
		out = append(out, "fake "+md5hex(b))
	}
	if cw.s3 {
		o, err := cw.sim.Backend().Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(cw.sim.Config().Bucket), Key: aws.String(name)})
		if err == nil {
			b, _ := io.ReadAll(o.Body)
			o.Body.Close()
			out = append(out, "s3 "+md5hex(b))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func md5hex(b []byte) string {
	if b == nil {
		return "none"
	}
	return fmt.Sprintf("%.16x", md5.Sum(b))
}

// convergedNow reports whether every place holds the local bytes and
// one record describes them (the uninterrupted run's goal when nothing
// diverged).
func (cw *crashWorld) convergedNow(t *testing.T) error {
	t.Helper()
	h := cw.localHashes(t)
	want, _ := os.ReadFile(cw.pkg)
	for _, sh := range cw.shares {
		if got, _ := os.ReadFile(filepath.Join(sh, name)); md5hex(got) != md5hex(want) {
			return errors.New("a share does not hold the local bytes")
		}
	}
	if strings.Contains(cw.start.String(), "fk:") && md5hex(cw.fake.holds(name)) != md5hex(want) {
		return errors.New("the fake destination does not hold the local bytes")
	}
	if cw.start.route != RouteElsewhere || cw.s3 {
		return cw.sim.Converged(name, h.SHA3, int64(len(want)))
	}
	var found []string
	for _, p := range cw.sim.Packages() {
		if p.FileName != name {
			continue
		}
		found = append(found, p.ID)
		typ, val := deref(p.HashType), deref(p.HashValue)
		if !(typ == "SHA3_512" && SameHash(val, h.SHA3) || typ == "MD5" && SameHash(val, h.MD5)) {
			return fmt.Errorf("record %s claims %s %q, not the local bytes", p.ID, typ, short(val))
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("%d records name %s, want 1", len(found), name)
	}
	return nil
}

// truthful: a record naming the package claims no hash, or one that
// every destination holding a file of that name holds. (Not on Classic
// servers: see planDests.)
func (cw *crashWorld) truthful(t *testing.T) error {
	t.Helper()
	if cw.start.classic {
		return nil
	}
	var held [][]byte
	for _, sh := range cw.shares {
		if b, err := os.ReadFile(filepath.Join(sh, name)); err == nil {
			held = append(held, b)
		}
	}
	if b := cw.fake.holds(name); b != nil {
		held = append(held, b)
	}
	for _, p := range cw.sim.Packages() {
		if p.FileName != name || deref(p.HashValue) == "" {
			continue
		}
		for _, b := range held {
			h := hashesOf(t, b)
			if val := deref(p.HashValue); !SameHash(val, h.SHA3) && !SameHash(val, h.MD5) {
				return fmt.Errorf("record %s claims %s %s, which a destination does not hold", p.ID, deref(p.HashType), short(val))
			}
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// worldKey says what the plan table states of a world: route, record,
// JCDS file and copies, destinations, flags; and apart, the facts of
// earlier rounds. The same function reads the table's worlds and the
// real ones, so a cell and a real round compare directly.
func worldKey(w *world, req *Request, size int64, local Hashes) (key, facts string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s rec=%s", w.route, recKind(w.rec, req.PkgName, local))
	if w.route == RouteJCDS2 {
		b.WriteString(" file=" + fileKind(w.file, local))
		for _, d := range w.dups {
			b.WriteString("+" + d.FileName + ":" + fileKind(&d, local))
		}
	}
	for _, s := range w.dests {
		b.WriteString(" " + destKind(s.d) + ":" + holdKind(s, size, local))
	}
	b.WriteString(" flags=")
	for _, f := range []struct {
		on bool
		c  string
	}{{req.Replace, "r"}, {req.ReplaceMetadata, "m"}, {req.SkipMetadata, "s"}} {
		if f.on {
			b.WriteString(f.c)
		}
	}
	if w.uploaded && !w.pending {
		facts += "d"
	}
	if w.pending {
		facts += "p"
	}
	if w.waited {
		facts += "w"
	}
	if w.lostTo != "" {
		facts += "l"
	}
	return b.String(), facts
}

func recKind(r *record, pkgName string, local Hashes) string {
	switch {
	case r == nil:
		return "none"
	case r.classic != nil && r.describes(local):
		return "classic"
	case r.classic != nil:
		return "classicstale"
	case r.fileName != pkgName && strings.EqualFold(r.fileName, pkgName):
		return "case"
	case r.fileName != pkgName && r.describes(local) && r.ready():
		return "otherfile"
	case r.fileName != pkgName:
		return "otherfile-other" // in no cell
	case r.hashValue == "" && r.ready():
		return "unhashed"
	case r.hashValue == "":
		return "nohash"
	case r.describes(local) && r.ready():
		return "ok"
	case r.describes(local) && r.status == "PENDING":
		return "pending"
	case !r.describes(local) && r.hashValue != "" && r.ready():
		return "stale"
	}
	return fmt.Sprintf("status %s size %q hash %.8s", r.status, r.size, r.hashValue)
}

func fileKind(f *jamf.FileData, local Hashes) string {
	switch {
	case f == nil:
		return "none"
	case f.MD5 == "" && f.SHA3 == "":
		return "unhashed"
	case SameHash(f.MD5, local.MD5) || SameHash(f.SHA3, local.SHA3):
		return "same"
	}
	return "other"
}

func destKind(d dest.Destination) string {
	if r, ok := d.(*racingDest); ok {
		d = r.Destination
	}
	switch d := d.(type) {
	case *memDest:
		switch {
		case d.cloud:
			return "s3"
		case strings.HasPrefix(d.label, "file share"):
			return "sh"
		}
		return "fk"
	case *distpoint.ShareDest:
		return "sh"
	case *distpoint.S3Dest:
		return "s3"
	}
	return fmt.Sprintf("%T", d)
}

func holdKind(s destState, size int64, local Hashes) string {
	holds := s.h.Present && s.h.Size == size && s.h.Hashes.Matches(local)
	switch {
	case s.put == nil && !s.h.Present:
		return "none"
	case s.put == nil && holds:
		return "same"
	case s.put == nil:
		return "other"
	case !s.put.hashes.Matches(local):
		return "torn"
	case holds:
		return "mine"
	case s.h.Present:
		return "lost"
	}
	return "gone"
}
