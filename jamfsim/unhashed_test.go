package jamfsim

import (
	"encoding/json"
	"testing"
)

// Above UnhashedAbove, Jamf Cloud computes no hash: JCDS lists the file
// with its length and no md5 or sha3, and no record ever gets a hash
// from Jamf for it, neither on processing an upload nor at a refresh.
// At or below it, nothing changes.
func TestLargeFilesAreNeverHashed(t *testing.T) {
	s := newSim(t, Config{UnhashedAbove: 10})
	c := login(t, s)
	small, large := []byte("ten bytes!"), []byte("eleven byte")
	c.jcdsUpload("Small.pkg", small)
	c.jcdsUpload("Large.pkg", large)
	st, body, _ := c.do("GET", "/api/v1/jcds/files", nil)
	if st != 200 {
		t.Fatalf("listing: %d %s", st, body)
	}
	var files []fileData
	if err := json.Unmarshal(body, &files); err != nil {
		t.Fatal(err)
	}
	listed := map[string]fileData{}
	for _, f := range files {
		listed[f.FileName] = f
	}
	if f := listed["Small.pkg"]; f.MD5 == "" || f.SHA3 != sha3Of(t, small) || f.Length != 10 {
		t.Errorf("a file of UnhashedAbove bytes is hashed: %+v", f)
	}
	if f := listed["Large.pkg"]; f.FileName == "" || f.MD5 != "" || f.SHA3 != "" || f.Length != 11 {
		t.Errorf("a file over UnhashedAbove is listed with its length and no hash: %+v", f)
	}
	if f := s.Files()["Large.pkg"]; !f.Unhashed || f.SHA3 != sha3Of(t, large) {
		t.Errorf("the store knows the bytes' own hashes and that Jamf has none: %+v", f)
	}

	// A record for the JCDS file: the refresh gives it no hash.
	jid := c.createPackage("Large", "Large.pkg", "")
	c.refresh("Large.pkg")
	if p := c.record(jid); str(p, "cloudTransferStatus") != "READY" || str(p, "hashValue") != "<nil>" || str(p, "size") == "" {
		t.Errorf("a refreshed record of an unhashed file is READY with no hash: %v", p)
	}

	// The packages route: processing the upload gives the record none.
	pid := c.createPackage("Api", "Api.pkg", "")
	if st, body := c.uploadFile(pid, "Api.pkg", large); st != 201 {
		t.Fatalf("upload: %d %s", st, body)
	}
	c.refresh("Api.pkg")
	if p := c.record(pid); str(p, "cloudTransferStatus") != "READY" || str(p, "hashValue") != "" || str(p, "sha3512") != "<nil>" {
		t.Errorf("a packages-route upload over UnhashedAbove leaves the record READY with no hash: %v", p)
	}
	if err := s.Converged("Api.pkg", sha3Of(t, large), int64(len(large))); err == nil {
		t.Error("Converged: a record with no hash does not describe its file")
	}

	// A record whose writer claimed a wrong hash keeps it: Jamf has no
	// hash of its own to correct it with.
	c.jcdsUpload("Wrong.pkg", large)
	wid := c.createPackage("Wrong", "Wrong.pkg", `"hashType":"SHA3_512","hashValue":"00ff"`)
	c.refresh("Wrong.pkg")
	if p := c.record(wid); str(p, "hashValue") != "00ff" {
		t.Errorf("a refresh of an unhashed file leaves the record's own hash: %v", p)
	}
}

// The default: 10 GiB (see DefaultUnhashedAbove); negative hashes all.
func TestUnhashedAboveDefault(t *testing.T) {
	if got := newSim(t, Config{}).Config().UnhashedAbove; got != 10<<30 {
		t.Errorf("default UnhashedAbove %d, want 10 GiB", got)
	}
	s := newSim(t, Config{UnhashedAbove: -1})
	c := login(t, s)
	c.jcdsUpload("Any.pkg", []byte("x"))
	s.Ingest(t.Context())
	if f := s.Files()["Any.pkg"]; f.Unhashed || f.MD5 == "" {
		t.Errorf("UnhashedAbove -1 hashes every file: %+v", f)
	}
}
