package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Integration tests of the upload engine: the binary, the simulator,
// MinIO. After each scenario the simulator must hold exactly one record
// and one file with the local bytes, no _1 duplicate and no unfinished
// multipart upload.

func fileMD5(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

func mustRun(t *testing.T, sim *jamfsim.Server, env processor.Env) processor.Env {
	t.Helper()
	r := runEnv(t, sim, env, processor.FormatBinary)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	return r.env
}

// assertConverged checks the final state: one record named name, one
// file name with the local bytes, nothing else.
func assertConverged(t *testing.T, sim *jamfsim.Server, name, pkg string) {
	t.Helper()
	assertState(t, sim, name, pkg)
	if open, err := sim.UnfinishedUploads(context.Background()); err != nil || len(open) != 0 {
		t.Fatalf("unfinished multipart uploads: %v %v", open, err)
	}
}

// assertState: the state a run must leave, judged by the simulator's own
// oracle, as the run left it: no call of the test's own to the server.
func assertState(t *testing.T, sim *jamfsim.Server, name, pkg string) {
	t.Helper()
	sha3, size, err := jamfsim.FileSHA3(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Converged(name, sha3, size); err != nil {
		t.Fatalf("not converged: %v", err)
	}
}

// uploadedThenRebuilt uploads a new package, then rebuilds it under the
// same name with other bytes, as the next version's build does.
func uploadedThenRebuilt(t *testing.T, sim *jamfsim.Server, name string, size int, seed byte) (processor.Env, string) {
	t.Helper()
	dir := t.TempDir()
	pkg := writePkg(t, dir, name, size, seed)
	env := baseEnv(t, sim, pkg)
	mustRun(t, sim, env)
	writePkg(t, dir, name, size, seed+1)
	return env, pkg
}

func calls(sim *jamfsim.Server) []string {
	var out []string
	for _, e := range sim.Log() {
		path, _, _ := strings.Cut(e.Path, "?")
		out = append(out, e.Method+" "+path)
	}
	return out
}

// atOnce is requests made together (the engine's first look: the
// version, the JCDS listing, the record), which the log holds in any
// order; assertCalls takes them as a group.
func atOnce(reqs ...string) string { return strings.Join(reqs, " & ") }

func assertCalls(t *testing.T, sim *jamfsim.Server, wantGroups ...string) {
	t.Helper()
	got := calls(sim)
	var want []string
	for _, g := range wantGroups {
		group := strings.Split(g, " & ")
		if n := len(want); len(group) > 1 && n+len(group) <= len(got) {
			slices.Sort(group)
			slices.Sort(got[n : n+len(group)])
		}
		want = append(want, group...)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestNewUploadThenUnchangedRerun(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Firefox 120.pkg", 20<<20, 10)
	env := baseEnv(t, sim, pkg)
	env["pkg_category"] = "Applications"
	out := mustRun(t, sim, env)
	if out["pkg_uploaded"] != true || out["pkg_metadata_updated"] != true || out["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("outputs: %v", out)
	}
	assertCalls(t, sim,
		"POST /api/v1/oauth/token",
		// The first look's reads, at once: the route (JCDS answers), the record.
		atOnce("GET /api/v1/jamf-pro-version", "GET /api/v1/jcds/files", "GET /api/v1/packages"),
		"GET /api/v1/categories", // checked before anything is written
		"POST /api/v1/jcds/files",
		// The upload ends the round once JCDS lists our bytes; the next
		// look sees them (in the listing the wait ended on), and only then
		// does the record claim their hash. The refresh comes after the
		// last record write.
		"GET /api/v1/jcds/files",
		"GET /api/v1/packages",
		"POST /api/v1/packages",
		"POST /api/v1/cloud-distribution-point/refresh-inventory",
		"GET /api/v1/packages/1",
		"POST /api/v1/auth/invalidate-token",
	)
	for _, e := range sim.Log()[1:] {
		if !e.Sticky {
			t.Fatalf("%s came without the load-balancer cookie", e)
		}
	}
	assertConverged(t, sim, "Firefox 120.pkg", pkg)
	rec := sim.Packages()[1]
	if deref(rec.HashType) != "SHA3_512" || deref(rec.HashValue) != out["pkg_hash_sha3_512"] || rec.CategoryID != "1" {
		t.Fatalf("record: %+v", rec)
	}

	sim.ResetLog()
	env2 := baseEnv(t, sim, pkg)
	env2["RECIPE_CACHE_DIR"] = env["RECIPE_CACHE_DIR"]
	env2["pkg_category"] = "Applications"
	env2["verbose"] = uint64(2)
	r := runEnv(t, sim, env2, processor.FormatBinary)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	out = r.env
	// The hash comes from the cache: not one byte of the package is read.
	if strings.Contains(string(r.stderr), "Hashed ") || !strings.Contains(string(r.stderr), "Using the cached hash of ") {
		t.Fatalf("an unchanged re-run must not read the package:\n%s", r.stderr)
	}
	if !strings.Contains(string(r.stderr), "JCDS2PackageUploader: 5 HTTP requests to Jamf Pro") {
		t.Fatalf("the request count must be printed:\n%s", r.stderr)
	}
	if out["pkg_uploaded"] != false || out["pkg_metadata_updated"] != false || out["pkg_upload_status"] != "unchanged" {
		t.Fatalf("outputs: %v", out)
	}
	if _, ok := out[processor.SummaryKey]; ok {
		t.Fatal("an unchanged run writes no summary")
	}
	assertCalls(t, sim,
		"POST /api/v1/oauth/token",
		atOnce("GET /api/v1/jamf-pro-version", "GET /api/v1/jcds/files", "GET /api/v1/packages"),
		"POST /api/v1/auth/invalidate-token",
	)
	if n := len(sim.S3Log()); n != 0 {
		t.Fatalf("an unchanged run must not touch S3, saw %v", sim.S3Log())
	}
	assertConverged(t, sim, "Firefox 120.pkg", pkg)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestRecordWithoutFileIsRepaired(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Half.pkg", 1<<20, 3)
	sim.AddPackage(jamfsim.Package{PackageName: "Half.pkg", FileName: "Half.pkg", CategoryID: "-1", Priority: 10})
	out := mustRun(t, sim, baseEnv(t, sim, pkg))
	if out["pkg_uploaded"] != true || out["pkg_id"] != "1" {
		t.Fatalf("outputs: %v", out)
	}
	assertConverged(t, sim, "Half.pkg", pkg)
}

func TestMetadataOnlyReplaceKeepsAdminFields(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Meta.pkg", 1<<20, 4)
	env := baseEnv(t, sim, pkg)
	mustRun(t, sim, env)
	// An admin ticks "suppress EULA" by hand.
	rec := sim.Packages()[1]
	rec.SuppressEula = true
	sim.ReplacePackage(1, rec)

	env["replace_pkg_metadata"] = "True"
	env["pkg_info"] = "Now with info & <notes>"
	sim.ResetLog()
	out := mustRun(t, sim, env)
	if out["pkg_uploaded"] != false || out["pkg_metadata_updated"] != true {
		t.Fatalf("metadata only: %v", out)
	}
	if len(sim.S3Log()) != 0 {
		t.Fatal("replace_pkg_metadata alone must not upload")
	}
	got := sim.Packages()[1]
	if !got.SuppressEula || deref(got.Info) != "Now with info & <notes>" {
		t.Fatalf("merge update lost fields: %+v", got)
	}
	assertConverged(t, sim, "Meta.pkg", pkg)
}

func TestClassicRouteOnOldServer(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Version: "11.4.0"})
	pkg := writePkg(t, t.TempDir(), "Old & Gold.pkg", 1<<20, 7)
	env := baseEnv(t, sim, pkg)
	env["pkg_category"] = "Productivity"
	env["pkg_display_name"] = `Old & "Gold" <app>`
	out := mustRun(t, sim, env)
	if out["pkg_uploaded"] != true || out["pkg_metadata_updated"] != true {
		t.Fatalf("outputs: %v", out)
	}
	for _, c := range calls(sim) {
		if strings.HasPrefix(c, "POST /api/v1/packages") {
			t.Fatalf("11.4 has no packages API: %v", calls(sim))
		}
	}
	if !strings.Contains(strings.Join(calls(sim), ","), "POST /JSSResource/packages/id/0") {
		t.Fatalf("the Classic API should create the record: %v", calls(sim))
	}
	rec := sim.Packages()[1]
	if rec.PackageName != `Old & "Gold" <app>` || rec.CategoryID != "2" {
		t.Fatalf("record: %+v", rec)
	}
	assertConverged(t, sim, "Old & Gold.pkg", pkg)
	sim.ResetLog()
	if out := mustRun(t, sim, env); out["pkg_uploaded"] != false {
		t.Fatalf("re-run on 11.4 should be unchanged: %v", out)
	}
}

func TestPackagesRouteWithoutJCDS(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "Api.pkg", 3<<20, 8)
	env := baseEnv(t, sim, pkg)
	out := mustRun(t, sim, env)
	if out["pkg_uploaded"] != true || out["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("outputs: %v", out)
	}
	assertCalls(t, sim,
		"POST /api/v1/oauth/token",
		// A 500 means "no JCDS 2.0" only when JamfSync's probe (a missing
		// file: 404 with JCDS, 500 without) agrees; then cdnType is asked
		// (jcds2.DecideRoute). The record is looked up beside the version
		// and the listing.
		atOnce("GET /api/v1/jamf-pro-version", "GET /api/v1/jcds/files",
			"GET /api/v1/jcds/files/jcds2-uploader-probe-nonexistent.pkg", "GET /api/v1/packages"),
		"GET /api/v1/cloud-distribution-point",
		"POST /api/v1/packages",
		"POST /api/v1/packages/1/upload",
		"POST /api/v1/cloud-distribution-point/refresh-inventory",
		"GET /api/v1/packages/1",
		"POST /api/v1/auth/invalidate-token",
	)
	assertConverged(t, sim, "Api.pkg", pkg)
	// Unchanged re-run, then a replacement.
	if out := mustRun(t, sim, env); out["pkg_uploaded"] != false {
		t.Fatalf("unchanged: %v", out)
	}
	writePkg(t, dir, "Api.pkg", 3<<20, 9)
	env["replace_pkg"] = true
	if out := mustRun(t, sim, env); out["pkg_uploaded"] != true {
		t.Fatalf("replace: %v", out)
	}
	assertConverged(t, sim, "Api.pkg", pkg)
}

func TestAwkwardNames(t *testing.T) {
	for _, name := range []string{"My App 1.0.pkg", "C++ Tools+1.pkg", "R&D #2 100%.pkg", "Grüße 日本語.pkg"} {
		t.Run(name, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			env, pkg := uploadedThenRebuilt(t, sim, name, 1<<20, 11)
			env["replace_pkg"] = "yes"
			if out := mustRun(t, sim, env); out["pkg_uploaded"] != true {
				t.Fatalf("replace: %v", out)
			}
			assertConverged(t, sim, name, pkg)
		})
	}
}

func TestTokenAndCredentialsExpireMidUpload(t *testing.T) {
	sim := newSim(t, jamfsim.Config{TokenLifetime: 3 * time.Second, CredentialLifetime: 3 * time.Second})
	pkg := writePkg(t, t.TempDir(), "Slow.pkg", 40<<20, 13)
	// Each part waits, so the upload outlives both the token and the
	// S3 credentials.
	sim.Delay("UploadPart", 1500*time.Millisecond, 5)
	env := baseEnv(t, sim, pkg)
	env["jcds2_concurrency"] = "1"
	out := mustRun(t, sim, env)
	if out["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("outputs: %v", out)
	}
	joined := strings.Join(calls(sim), ",")
	if !strings.Contains(joined, "POST /api/v1/jcds/renew-credentials") {
		t.Fatalf("credentials should have been renewed mid-upload: %v", calls(sim))
	}
	for _, e := range sim.Log() {
		if e.Status == 401 {
			t.Fatalf("a token should never expire in use: %v", sim.Log())
		}
	}
	for _, e := range sim.S3Log() {
		if e.Status == 400 {
			t.Fatalf("expired S3 credentials were used: %v", sim.S3Log())
		}
	}
	assertConverged(t, sim, "Slow.pkg", pkg)
}

func TestBundlePackageIsZipped(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	bundle := filepath.Join(dir, "Fluffy.pkg")
	os.MkdirAll(filepath.Join(bundle, "Contents", "Resources"), 0o755)
	os.WriteFile(filepath.Join(bundle, "Contents", "Info.plist"), []byte("<plist/>"), 0o644)
	os.WriteFile(filepath.Join(bundle, "Contents", "Archive.pax.gz"), make([]byte, 1<<20), 0o644)
	env := baseEnv(t, sim, bundle)
	out := mustRun(t, sim, env)
	if out["pkg_name"] != "Fluffy.pkg.zip" || out["pkg_uploaded"] != true {
		t.Fatalf("outputs: %v", out)
	}
	zip := out[processor.SummaryKey].(map[string]any)["data"].(map[string]any)["pkg_path"].(string)
	assertConverged(t, sim, "Fluffy.pkg.zip", zip)
	// The zip is reproducible, so the next run finds nothing to do.
	if out := mustRun(t, sim, env); out["pkg_uploaded"] != false {
		t.Fatalf("an unchanged bundle must not be uploaded again: %v", out)
	}
}

// jcds2_reuse_auth: one token for the processors of a recipe run, kept in
// a 0600 file in RECIPE_CACHE_DIR and not invalidated at the end.
func TestTokenReuseAcrossRuns(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Reuse.pkg", 1<<20, 21)
	env := baseEnv(t, sim, pkg)
	env["jcds2_reuse_auth"] = "True"
	mustRun(t, sim, env)
	files, _ := filepath.Glob(filepath.Join(env["RECIPE_CACHE_DIR"].(string), "jcds2-uploader-token-*.json"))
	if len(files) != 1 {
		t.Fatalf("token cache files: %v", files)
	}
	st, err := os.Stat(files[0])
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the token cache must be 0600: %v %v", st.Mode(), err)
	}
	sim.ResetLog()
	mustRun(t, sim, env)
	for _, c := range calls(sim) {
		if strings.Contains(c, "/oauth/token") || strings.Contains(c, "invalidate-token") {
			t.Fatalf("the second run should reuse the cached token: %v", calls(sim))
		}
	}
}

// A re-run while JCDS still processes an earlier upload waits for it
// instead of uploading again (which would make Name_1.pkg).
func TestRerunDuringIngestDoesNotUploadAgain(t *testing.T) {
	sim := newSim(t, jamfsim.Config{IngestDelay: 4 * time.Second})
	pkg := writePkg(t, t.TempDir(), "Slowly.pkg", 1<<20, 41)
	env := baseEnv(t, sim, pkg)
	env["jcds2_verify_timeout"] = "1"
	out := mustRun(t, sim, env)
	if out["pkg_upload_status"] != "uploaded, not yet verified" || out["pkg_metadata_updated"] != true {
		t.Fatalf("first run: %v", out)
	}
	sim.ResetLog()
	env["jcds2_verify_timeout"] = "30"
	env["RECIPE_CACHE_DIR"] = t.TempDir() // another machine: no cached hash
	out = mustRun(t, sim, env)
	// The second run waits for the earlier upload rather than making
	// Slowly_1.pkg, then gives the record the hash JCDS confirmed.
	if out["pkg_uploaded"] != false {
		t.Fatalf("second run: %v", out)
	}
	if len(sim.S3Log()) != 0 {
		t.Fatalf("the second run must not upload: %v", sim.S3Log())
	}
	assertConverged(t, sim, "Slowly.pkg", pkg)
}
