package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/lifecycle"
)

func runAuditCLI(t *testing.T, sim *jamfsim.Server, args ...string) (*lifecycle.Report, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"audit", "--json", "--url", sim.URL}, args...)...)
	cmd.Env = append(os.Environ(), "CLIENT_ID="+jamfsim.DefaultClientID, "CLIENT_SECRET="+jamfsim.DefaultClientSecret,
		"AWS_ENDPOINT_URL_S3="+sim.S3Endpoint())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("audit %v: %v\n%s", args, err, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), jamfsim.DefaultClientSecret) {
		t.Fatal("the client secret was printed")
	}
	var r lifecycle.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout.String())
	}
	return &r, stderr.String()
}

func counts(r *lifecycle.Report) map[string]int {
	m := map[string]int{}
	for _, f := range r.Findings {
		m[f.Class]++
	}
	return m
}

// Every defect class is seeded, found by a read-only audit, and --fix
// converges the fixable ones and leaves the rest: through the upload
// engine, as an upload run of the package would, each package that is
// in --pkg-dir (the record with a lying hash, the original of the
// same-bytes duplicate, the missing file); the inventory refresh for the
// record not READY whose package is not there.
func TestAuditFindsAndFixes(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{})
	s := seedTitle(t, sim, 4) // App-1.0 .. App-1.3 (ids 1-4), Apple-1.0 (5), MyApp-1.0 (6)
	ctx := context.Background()
	for id := 1; id <= 3; id++ {
		sim.AddPolicy("p", id)
	}
	rec, _ := sim.Package(2) // not READY, no size
	rec.CloudTransferStatus, rec.Size = "", nil
	sim.ReplacePackage(2, rec)
	rec, _ = sim.Package(3) // a hash that does not describe the file
	bad := strings.Repeat("0", 128)
	rec.HashValue = &bad
	sim.ReplacePackage(3, rec)
	app10, _ := os.ReadFile(s.files["App-1.0.pkg"])
	sim.PutFile(ctx, "App-1.0_1.pkg", app10)             // same bytes
	sim.PutFile(ctx, "App-1.3_1.pkg", []byte("other"))   // other bytes
	sim.PutFile(ctx, "Stray.pkg", []byte("stray bytes")) // no record
	pkgDir := t.TempDir()
	gone := writePkg(t, pkgDir, "Gone-1.0.pkg", 8192, 77)         // its record has no file
	for _, file := range []string{"App-1.0.pkg", "App-1.2.pkg"} { // the duplicate's original, the lying hash
		data, _ := os.ReadFile(s.files[file])
		os.WriteFile(filepath.Join(pkgDir, file), data, 0o644)
	}
	sim.AddPackage(jamfsim.Package{PackageName: "Gone-1.0", FileName: "Gone-1.0.pkg", CategoryID: "-1", Priority: 10})

	sim.ResetLog()
	r, _ := runAuditCLI(t, sim, "--csv", filepath.Join(pkgDir, "audit.csv"))
	for _, e := range sim.Log() {
		if e.Method != "GET" && !strings.Contains(e.Path, "/token") && !strings.Contains(e.Path, "invalidate") {
			t.Errorf("the audit sent %s", e)
		}
	}
	want := map[string]int{lifecycle.OrphanFile: 1, lifecycle.MissingFile: 1, lifecycle.NotReady: 1, lifecycle.HashMismatch: 1,
		lifecycle.Duplicate: 2, lifecycle.Unused: 4}
	if got := counts(r); len(got) != len(want) || !sameCounts(got, want) {
		t.Fatalf("findings %v, want %v: %+v", got, want, r.Findings)
	}
	if r.Packages != 7 || len(r.Titles) == 0 || r.Titles[0].Title != "App" || r.Titles[0].Packages != 4 {
		t.Fatalf("totals/titles: %d %+v", r.Packages, r.Titles)
	}
	f, _ := os.Open(filepath.Join(pkgDir, "audit.csv"))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 1+len(r.Findings) {
		t.Fatalf("CSV: %v, %d rows", err, len(rows))
	}

	r, log := runAuditCLI(t, sim, "--fix", "--pkg-dir", pkgDir, "--key", "jcds2_verify_timeout=5")
	want = map[string]int{lifecycle.OrphanFile: 1, lifecycle.Duplicate: 1, lifecycle.Unused: 4}
	if got := counts(r); !sameCounts(got, want) {
		t.Fatalf("after --fix: %v, want %v\n%s", got, want, log)
	}
	if _, ok := sim.Files()["App-1.0_1.pkg"]; ok {
		t.Error("the same-bytes duplicate is still there")
	}
	if _, ok := sim.Files()["App-1.3_1.pkg"]; !ok {
		t.Error("a duplicate with other bytes must stay")
	}
	assertState(t, sim, "Gone-1.0.pkg", gone)
	for _, file := range []string{"App-1.0.pkg", "App-1.1.pkg", "App-1.2.pkg"} { // READY, sized, the right hash
		assertState(t, sim, file, s.files[file])
	}
	for _, want := range []string{"Not fixed (duplicate)", "Not fixed (orphan-file)", "Converged Gone-1.0.pkg through the upload engine",
		"Converged App-1.0.pkg through the upload engine", "Converged App-1.2.pkg through the upload engine", "Refreshed the distribution point inventory"} {
		if !strings.Contains(log, want) {
			t.Errorf("the --fix log lacks %q:\n%s", want, log)
		}
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
