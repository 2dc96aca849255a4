package jamfsim

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// BeforeJCDSList runs at the start of every listing, before JCDS takes
// uploads in: what it changes is what that listing answers. RemoveFile
// takes a file out as another client's DELETE would.
func TestBeforeJCDSListActsBeforeTheListingAnswers(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	calls := 0
	s.BeforeJCDSList(func() {
		calls++
		if calls == 2 {
			s.PutFile(t.Context(), "A.pkg", []byte("theirs"))
		}
	})
	c.jcdsUpload("A.pkg", []byte("ours"))
	list := func() map[string]string {
		st, body, _ := c.do("GET", "/api/v1/jcds/files", nil)
		if st != 200 {
			t.Fatalf("listing: %d %s", st, body)
		}
		var files []fileData
		json.Unmarshal(body, &files)
		out := map[string]string{}
		for _, f := range files {
			out[f.FileName] = f.SHA3
		}
		return out
	}
	if got := list(); got["A.pkg"] != sha3Of(t, []byte("ours")) || len(got) != 1 {
		t.Fatalf("first listing: %v", got)
	}
	if got := list(); got["A.pkg"] != sha3Of(t, []byte("theirs")) || len(got) != 1 {
		t.Fatalf("the second listing answers what the hook put there: %v", got)
	}
	s.BeforeJCDSList(nil)
	if !s.RemoveFile(t.Context(), "A.pkg") || s.RemoveFile(t.Context(), "A.pkg") {
		t.Fatal("RemoveFile reports whether the file was there")
	}
	if got := list(); len(got) != 0 || calls != 2 {
		t.Fatalf("after RemoveFile, with the hook removed: %v (hook ran %d times)", got, calls)
	}
}

// IngestNow takes an upload in before its IngestDelay has passed.
func TestIngestNowTakesUploadsInAtOnce(t *testing.T) {
	s := newSim(t, Config{IngestDelay: time.Hour})
	c := login(t, s)
	c.jcdsUpload("Late.pkg", []byte("late"))
	s.Ingest(t.Context())
	if _, ok := s.Files()["Late.pkg"]; ok {
		t.Fatal("Ingest took an upload in before IngestDelay")
	}
	s.IngestNow(t.Context())
	if f, ok := s.Files()["Late.pkg"]; !ok || f.SHA3 != sha3Of(t, []byte("late")) {
		t.Fatalf("IngestNow: %+v", f)
	}
}

// Before acts before the matching request is handled, and lets it
// through: the request sees what it did.
func TestBeforeActsBeforeTheRequest(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	id := c.createPackage("P", "P.pkg", "")
	n, _ := strconv.Atoi(id)
	s.Before("GET /api/v1/packages/", 1, func() {
		p, _ := s.Package(n)
		p.Notes = ptr("written by another client")
		s.ReplacePackage(n, p)
	})
	if got := str(c.record(id), "notes"); got != "written by another client" {
		t.Fatalf("the first read sees the other client's write: %q", got)
	}
	p, _ := s.Package(n)
	p.Notes = ptr("back")
	s.ReplacePackage(n, p)
	if got := str(c.record(id), "notes"); got != "back" {
		t.Fatalf("Before acts once: %q", got)
	}
}

// FailBefore acts, then answers the request with the status.
func TestFailBeforeActsThenFails(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	acted := false
	s.FailBefore("GET /api/v1/packages", 409, 1, func() { acted = true })
	if st, _, _ := c.do("GET", "/api/v1/packages", nil); st != 409 || !acted {
		t.Fatalf("status %d, acted %v", st, acted)
	}
	if st, _, _ := c.do("GET", "/api/v1/packages", nil); st != 200 {
		t.Fatalf("once only: status %d", st)
	}
}
