package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// Real Jamf Cloud may never compute a hash for a very large package
// (jamf-pro-api.md 3.2 and 13: jamf-cli reports it unverified; in
// jamf-upload #399 a 10.85 GB upload returned 201 and its verification
// timed out). The simulator's UnhashedAbove, set low, makes a 2 MiB
// package such a file. On both routes the run uploads it once, ends
// exit 0 saying it is not verified (never "verified"), leaves one file
// and one record that claims no hash it cannot prove; a re-run sends
// nothing again and says the same.
func TestAnUnhashedLargePackageEndsUploadedNotVerified(t *testing.T) {
	for _, route := range []string{"jcds", "packages"} {
		t.Run(route, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{UnhashedAbove: 1 << 20})
			pkg := writePkg(t, t.TempDir(), "Huge.pkg", 2<<20, 71)
			env := baseEnv(t, sim, pkg)
			env["jcds2_verify_timeout"] = "3"
			if route == "packages" {
				env["pkg_api_mode"] = "True"
				// Jamf Pro's READY record with a size and no hash says it
				// is done and computed none: the run stops waiting then,
				// long before this timeout (the bound only tells an ending
				// from a wait for a hash that never comes). On the JCDS
				// route the listing comes first, and a listing with no
				// hash cannot tell "not yet" from "never": that wait runs
				// its timeout.
				env["jcds2_verify_timeout"] = "600"
			}
			r := runEnvTimeout(t, sim, env, 5*time.Minute)
			t.Logf("first run: exit %d %v\n%s", r.code, r.env["pkg_upload_status"], r.stderr)
			assertUnverified(t, r, true)
			assertUnhashedState(t, sim, "Huge.pkg", pkg)

			sim.ResetLog()
			r = runEnv(t, sim, env, 0)
			t.Logf("re-run: exit %d %v\n%s", r.code, r.env["pkg_upload_status"], r.stderr)
			assertUnverified(t, r, false)
			for _, c := range calls(sim) {
				if strings.Contains(c, "/upload") || strings.HasPrefix(c, "POST /api/v1/jcds/files") {
					t.Errorf("the re-run sent the package again: %s", c)
				}
			}
			assertUnhashedState(t, sim, "Huge.pkg", pkg)

			// The pkg command says it to a script in stable words.
			args := []string{"pkg", pkg, "--json", "--key", "jcds2_verify_timeout=3"}
			if route == "packages" {
				args = append(args, "--key", "pkg_api_mode=True")
			}
			out, errs, code := runCLI(t, []string{"JSS_URL=" + sim.URL, "CLIENT_ID=" + jamfsim.DefaultClientID,
				"CLIENT_SECRET=" + jamfsim.DefaultClientSecret, "AWS_ENDPOINT_URL_S3=" + sim.S3Endpoint()}, args...)
			var res map[string]any
			if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
				t.Fatalf("pkg --json: exit %d, %v\n%s%s", code, err, out, errs)
			}
			if res["outcome"] != "unhashed" || res["verified"] != false || res["pkg_uploaded"] != false {
				t.Errorf("pkg --json on an unhashed package: want outcome unhashed, not verified, nothing uploaded: %v", res)
			}
			assertUnhashedState(t, sim, "Huge.pkg", pkg)
		})
	}
}

func assertUnverified(t *testing.T, r result, uploaded bool) {
	t.Helper()
	status, _ := r.env["pkg_upload_status"].(string)
	if r.code != 0 || r.env["pkg_uploaded"] != uploaded || !strings.Contains(status, "not") || !strings.Contains(status, "verified") {
		t.Fatalf("want exit 0, pkg_uploaded %v and a status saying not verified: exit %d, %v\n%s", uploaded, r.code, r.env, r.stderr)
	}
	if strings.Contains(string(r.stderr), "Verified") {
		t.Errorf("the run claims a verification Jamf never made:\n%s", r.stderr)
	}
}

// assertUnhashedState: one file of the name, the local bytes, no Name_N
// copy; one record naming it, READY, claiming no hash (none is known to
// describe the file) or one that does.
func assertUnhashedState(t *testing.T, sim *jamfsim.Server, name, pkg string) {
	t.Helper()
	sha3, size, err := jamfsim.FileSHA3(pkg)
	if err != nil {
		t.Fatal(err)
	}
	files := sim.Files()
	if f := files[name]; f.SHA3 != sha3 || f.Length != size || !f.Unhashed {
		t.Errorf("the stored %s is not the local bytes, listed without a hash: %+v", name, f)
	}
	if len(files) != 1 {
		t.Errorf("want one file, the server holds %d: %v", len(files), files)
	}
	var recs []jamfsim.Package
	for _, p := range sim.Packages() {
		recs = append(recs, p)
	}
	if len(recs) != 1 {
		t.Fatalf("want one record, found %d", len(recs))
	}
	p := recs[0]
	if p.FileName != name || p.CloudTransferStatus != "READY" {
		t.Errorf("record: fileName %q, status %q; want %s READY", p.FileName, p.CloudTransferStatus, name)
	}
	if h := deref(p.HashValue); h != "" && !strings.EqualFold(h, sha3) {
		t.Errorf("the record claims hash %s (%s), which is not the file's", h, deref(p.HashType))
	}
}
