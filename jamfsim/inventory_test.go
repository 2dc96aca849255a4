package jamfsim

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The S3 route: a record is PENDING with size "" until a refresh finds
// its file; what the client says about size and status is ignored; a
// PUT blanks size again.
func TestRecordIsReadyOnlyAfterARefresh(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	data := []byte("tool version one")
	id := c.createPackage("Tool", "Tool.pkg", `"size":"999KB","cloudTransferStatus":"READY"`)
	if p := c.record(id); str(p, "cloudTransferStatus") != "PENDING" || str(p, "size") != "" {
		t.Fatalf("a new record is PENDING with size \"\": %v", p)
	}
	c.jcdsUpload("Tool.pkg", data)
	st, body, _ := c.do("GET", "/api/v1/jcds/files", nil)
	if st != 200 || !strings.Contains(string(body), sha3Of(t, data)) {
		t.Fatalf("JCDS should list the processed upload: %d %s", st, body)
	}
	if p := c.record(id); str(p, "cloudTransferStatus") != "PENDING" || str(p, "size") != "" {
		t.Fatalf("no refresh yet, so still PENDING: %v", p)
	}
	if err := s.Converged("Tool.pkg", sha3Of(t, data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "READY") {
		t.Fatalf("Converged before a refresh: %v", err)
	}
	c.refresh("Tool.pkg")
	p := c.record(id)
	if str(p, "cloudTransferStatus") != "READY" || str(p, "size") == "" || str(p, "hashType") != "SHA3_512" ||
		str(p, "hashValue") != sha3Of(t, data) || str(p, "sha3512") != sha3Of(t, data) || str(p, "md5") == "<nil>" || str(p, "sha256") == "<nil>" {
		t.Fatalf("after the refresh the record is READY with the server's own hashes: %v", p)
	}
	if err := s.Converged("Tool.pkg", sha3Of(t, data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	// A PUT blanks size, whether the body echoes it or not.
	st, body, _ = c.do("PUT", "/api/v1/packages/"+id, strings.NewReader(pkgJSON("Tool", "Tool.pkg",
		`"size":"16KB","cloudTransferStatus":"ERROR","hashType":"SHA3_512","hashValue":"`+sha3Of(t, data)+`"`)), "Content-Type", "application/json")
	if st != 200 || !strings.Contains(string(body), `"size" : ""`) {
		t.Fatalf("PUT answers the record with size \"\": %d %s", st, body)
	}
	if p := c.record(id); str(p, "size") != "" || str(p, "cloudTransferStatus") != "READY" {
		t.Fatalf("after a PUT: %v", p)
	}
	if err := s.Converged("Tool.pkg", sha3Of(t, data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "size is empty") {
		t.Fatalf("Converged after a PUT: %v", err)
	}
	c.refresh("Tool.pkg")
	if err := s.Converged("Tool.pkg", sha3Of(t, data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

// The packages route: Jamf processes an upload for a record without a
// file by itself; while it works, hashValue and size read "".
func TestPackagesRouteProcessesANewRecordByItself(t *testing.T) {
	s := newSim(t, Config{IngestDelay: 300 * time.Millisecond})
	c := login(t, s)
	data := []byte("api bytes")
	id := c.createPackage("Api", "Api.pkg", `"hashType":"MD5","hashValue":"0123"`)
	if st, body := c.uploadFile(id, "Api.pkg", data); st != 201 {
		t.Fatalf("upload: %d %s", st, body)
	}
	if p := c.record(id); str(p, "hashValue") != "" || str(p, "size") != "" || str(p, "cloudTransferStatus") != "PENDING" {
		t.Fatalf("while processing, hashValue and size read \"\": %v", p)
	}
	busy, err := s.Processing(context.Background())
	if err != nil || len(busy) != 1 || busy[0].Route != "packages" || busy[0].FileName != "Api.pkg" {
		t.Fatalf("Processing: %v %v", busy, err)
	}
	time.Sleep(350 * time.Millisecond)
	p := c.record(id)
	if str(p, "cloudTransferStatus") != "READY" || str(p, "hashType") != "SHA3_512" || str(p, "hashValue") != sha3Of(t, data) || str(p, "size") != "0KB" {
		t.Fatalf("processed: %v", p)
	}
	if err := s.Converged("Api.pkg", sha3Of(t, data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

// Replacing the file of a record keeps the old hash until a refresh.
func TestAReplacedFileKeepsTheOldHashUntilARefresh(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	v1, v2 := []byte("version one"), []byte("version two, longer")
	id := c.createPackage("Rep", "Rep.pkg", "")
	c.uploadFile(id, "Rep.pkg", v1)
	if err := s.Converged("Rep.pkg", sha3Of(t, v1), int64(len(v1))); err != nil {
		t.Fatal(err)
	}
	if st, body := c.uploadFile(id, "Rep.pkg", v2); st != 201 {
		t.Fatalf("replacing: %d %s", st, body)
	}
	if p := c.record(id); str(p, "hashValue") != sha3Of(t, v1) {
		t.Fatalf("the old hash stays: %v", p)
	}
	if f := s.Files()["Rep.pkg"]; f.SHA3 != sha3Of(t, v2) {
		t.Fatalf("the new file replaces the old on the packages route: %+v", f)
	}
	err := s.Converged("Rep.pkg", sha3Of(t, v2), int64(len(v2)))
	if err == nil || !strings.Contains(err.Error(), "does not describe the stored file") {
		t.Fatalf("Converged before the refresh: %v", err)
	}
	c.refresh("Rep.pkg")
	if err := s.Converged("Rep.pkg", sha3Of(t, v2), int64(len(v2))); err != nil {
		t.Fatal(err)
	}
}

// A refresh keeps a client's hash that describes the file (any type
// Jamf knows) and replaces one that does not.
func TestARefreshKeepsOnlyAHashThatDescribesTheFile(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	ctx := context.Background()
	good, bad := []byte("good"), []byte("bad")
	if err := s.PutFile(ctx, "Good.pkg", good); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "Bad.pkg", bad); err != nil {
		t.Fatal(err)
	}
	gd, _ := digest(strings.NewReader("good"))
	g := c.createPackage("Good", "Good.pkg", `"hashType":"SHA_512","hashValue":"`+strings.ToUpper(gd.SHA512)+`"`)
	b := c.createPackage("Bad", "Bad.pkg", `"hashType":"MD5","hashValue":"`+gd.MD5+`"`)
	c.refresh("")
	if p := c.record(g); str(p, "hashType") != "SHA_512" || str(p, "cloudTransferStatus") != "READY" {
		t.Fatalf("a describing SHA_512 hash stays: %v", p)
	}
	if p := c.record(b); str(p, "hashType") != "SHA3_512" || str(p, "hashValue") != sha3Of(t, bad) {
		t.Fatalf("a wrong hash is replaced by the file's SHA3-512: %v", p)
	}
}

// A full refresh runs at most once per RefreshRateLimit; a named one
// always runs. Only the first refresh waits RefreshDelay.
func TestFullRefreshIsRateLimitedAndTheFirstIsSlow(t *testing.T) {
	s := newSim(t, Config{RefreshDelay: 300 * time.Millisecond})
	c := login(t, s)
	start := time.Now()
	c.refresh("")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("the first refresh took %v, want RefreshDelay", d)
	}
	if err := s.PutFile(context.Background(), "Late.pkg", []byte("late")); err != nil {
		t.Fatal(err)
	}
	id := c.createPackage("Late", "Late.pkg", "")
	start = time.Now()
	c.refresh("")
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("later refreshes are fast, took %v", d)
	}
	if p := c.record(id); str(p, "cloudTransferStatus") != "PENDING" {
		t.Fatalf("a second full refresh within 15 s does nothing: %v", p)
	}
	c.refresh("Late.pkg")
	if p := c.record(id); str(p, "cloudTransferStatus") != "READY" {
		t.Fatalf("a refresh with file-name is not rate limited: %v", p)
	}
}

// The pre-11.24 JCDS refresh updates records the same way.
func TestJCDSRefreshUpdatesTheInventory(t *testing.T) {
	s := newSim(t, Config{Version: "11.23.2"})
	c := login(t, s)
	c.jcdsUpload("Old.pkg", []byte("old server"))
	id := c.createPackage("Old", "Old.pkg", "")
	if st, body, _ := c.do("POST", "/api/v1/jcds/refresh-inventory", nil); st != 204 {
		t.Fatalf("%d %s", st, body)
	}
	if p := c.record(id); str(p, "cloudTransferStatus") != "READY" || p["sha3512"] != nil {
		t.Fatalf("READY, and no sha3512 before 11.25: %v", p)
	}
}

// JCDS lists an upload only once processed, and a name already taken
// puts the next upload at Name_1.pkg.
func TestJCDSListsAnUploadOnlyAfterProcessing(t *testing.T) {
	s := newSim(t, Config{IngestDelay: 400 * time.Millisecond})
	c := login(t, s)
	c.jcdsUpload("Slow.pkg.zip", []byte("zipped bundle"))
	if _, body, _ := c.do("GET", "/api/v1/jcds/files", nil); strings.Contains(string(body), "Slow") {
		t.Fatalf("listed before processing: %s", body)
	}
	busy, _ := s.Processing(context.Background())
	if len(busy) != 1 || busy[0].Route != "jcds" || busy[0].FileName != "Slow.pkg.zip" || time.Until(busy[0].Due) <= 0 {
		t.Fatalf("Processing: %+v", busy)
	}
	time.Sleep(450 * time.Millisecond)
	if _, body, _ := c.do("GET", "/api/v1/jcds/files", nil); !strings.Contains(string(body), sha3Of(t, []byte("zipped bundle"))) {
		t.Fatalf("not listed after processing: %s", body)
	}
	c.jcdsUpload("Slow.pkg.zip", []byte("second build"))
	time.Sleep(450 * time.Millisecond)
	s.Ingest(context.Background())
	if _, ok := s.Files()["Slow_1.pkg.zip"]; !ok {
		t.Fatalf("a second upload of the name becomes Slow_1.pkg.zip: %v", s.Files())
	}
	err := s.Converged("Slow.pkg.zip", sha3Of(t, []byte("zipped bundle")), 13)
	if err == nil || !strings.Contains(err.Error(), "duplicate file on the distribution point: Slow_1.pkg.zip") {
		t.Fatalf("Converged must see the duplicate: %v", err)
	}
}
