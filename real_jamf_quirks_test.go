package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// What real Jamf Pro does that a naive simulator does not (reference,
// jamf-pro-api.md section 13), each against the strict simulator. Every
// test ends with the state a run must leave, judged by the simulator's
// oracle as the run left it.

// An API role made for JamfPackageUploader has the packages privileges
// but none of JCDS's: auto mode uploads through the packages route.
func TestJamfPackageUploaderRoleUsesThePackagesRoute(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: jamfsim.JamfPackageUploaderRole}})
	pkg := writePkg(t, t.TempDir(), "Role.pkg", 2<<20, 61)
	env := baseEnv(t, sim, pkg)
	r := runEnv(t, sim, env, 0)
	if r.code != 0 || r.env["pkg_uploaded"] != true {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := strings.Count(string(r.stderr), "Using the packages upload route"); n != 1 ||
		!strings.Contains(string(r.stderr), `lacks the "Read Jamf Cloud Distribution Service Files" privilege`) {
		t.Fatalf("want one line naming the missing privilege:\n%s", r.stderr)
	}
	if !strings.Contains(strings.Join(calls(sim), " "), "POST /api/v1/packages/1/upload") {
		t.Fatalf("the packages route should upload: %v", calls(sim))
	}
	assertConverged(t, sim, "Role.pkg", pkg)

	// jcds2_mode True, as in a recipe written for JamfPackageUploader
	// (which no longer reads it): JCDS 2.0 is preferred, and the same
	// role succeeds on the packages route, saying once what JCDS lacked.
	sim2 := newSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: jamfsim.JamfPackageUploaderRole}})
	env = baseEnv(t, sim2, pkg)
	env["jcds2_mode"] = "True"
	r = runEnv(t, sim2, env, 0)
	if r.code != 0 || r.env["pkg_uploaded"] != true || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("jcds2_mode: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	assertOneSwitchLine(t, r.stderr, `JCDS 2.0 was asked for, but the account lacks the "Read Jamf Cloud Distribution Service Files" privilege: using the packages upload route instead`)
	assertConverged(t, sim2, "Role.pkg", pkg)

	// A role that may list JCDS but not create files in it: refused only
	// when the upload asks for credentials, the run looks again and takes
	// the packages route, with the same one line.
	sim3 := newSim(t, jamfsim.Config{})
	sim3.Fail("POST /api/v1/jcds/files", 403, 5)
	env = baseEnv(t, sim3, pkg)
	env["jcds2_mode"] = "True"
	r = runEnv(t, sim3, env, 0)
	if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("jcds2_mode, no Create privilege: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	assertOneSwitchLine(t, r.stderr, `JCDS 2.0 was asked for, but the account lacks the "Create Jamf Cloud Distribution Service Files" privilege: using the packages upload route instead`)
	assertConverged(t, sim3, "Role.pkg", pkg)
}

// assertOneSwitchLine: the switch to the packages route is said exactly
// once, at verbosity 0, and in these words.
func assertOneSwitchLine(t *testing.T, stderr []byte, line string) {
	t.Helper()
	n := 0
	for _, l := range strings.Split(string(stderr), "\n") {
		if strings.Contains(l, "packages upload route") {
			n++
			if !strings.HasSuffix(l, line) {
				t.Fatalf("the switch line is %q, want it to end %q", l, line)
			}
		}
	}
	if n != 1 {
		t.Fatalf("want exactly one line about the switch, got %d:\n%s", n, stderr)
	}
}

// The day Jamf removes the deprecated /api/v1/jcds/* endpoints (404).
func TestJCDSEndpointsRemoved(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDSEndpoints: true})
	pkg := writePkg(t, t.TempDir(), "Gone.pkg", 2<<20, 62)
	r := runEnv(t, sim, baseEnv(t, sim, pkg), 0)
	if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	if !strings.Contains(string(r.stderr), "the JCDS endpoints are gone (404)") {
		t.Fatalf("the switch should be said once:\n%s", r.stderr)
	}
	assertConverged(t, sim, "Gone.pkg", pkg)

	// jcds2_mode True against the same server: the packages route, one
	// line, deployable.
	sim2 := newSim(t, jamfsim.Config{NoJCDSEndpoints: true})
	env := baseEnv(t, sim2, pkg)
	env["jcds2_mode"] = "True"
	r = runEnv(t, sim2, env, 0)
	if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("jcds2_mode: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	assertOneSwitchLine(t, r.stderr, "JCDS 2.0 was asked for, but the JCDS endpoints are gone (404): using the packages upload route instead")
	assertConverged(t, sim2, "Gone.pkg", pkg)
}

// The Classic API form-decodes "+" in a path to a space: the lookup of
// Foo+Bar-2.0.pkg must send %2B, or the replacement makes a second record.
func TestPlusInANameOnTheClassicAPI(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Version: "11.4.0"})
	env, pkg := uploadedThenRebuilt(t, sim, "Foo+Bar-2.0.pkg", 1<<20, 63)
	env["replace_pkg"] = "True"
	r := runEnv(t, sim, env, 0)
	if r.code != 0 || r.env["pkg_uploaded"] != true {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if recs := sim.Packages(); len(recs) != 1 {
		t.Fatalf("want the one record updated, got %v", recs)
	}
	if !strings.Contains(strings.Join(calls(sim), " "), "PUT /JSSResource/packages/id/1") {
		t.Fatalf("the record should be updated in place: %v", calls(sim))
	}
	assertConverged(t, sim, "Foo+Bar-2.0.pkg", pkg)
}

// After a new upload, a replacement and a metadata-only update, the
// record is READY with a size and the right hash the moment the run
// ends: the refresh comes after the last record write, on both routes.
func TestDeployableWhenTheRunEnds(t *testing.T) {
	for _, route := range []string{"", "pkg_api_mode"} {
		t.Run("route "+route, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			env, pkg := uploadedThenRebuilt(t, sim, "Ready.pkg", 1<<20, 64)
			if route != "" {
				env[route] = "True"
			}
			env["replace_pkg"] = "True"
			mustRun(t, sim, env)
			assertConverged(t, sim, "Ready.pkg", pkg)
			env["replace_pkg"] = "False"
			env["replace_pkg_metadata"] = "True"
			env["pkg_notes"] = "metadata only"
			out := mustRun(t, sim, env)
			if out["pkg_uploaded"] != false || out["pkg_metadata_updated"] != true {
				t.Fatalf("metadata-only: %v", out)
			}
			for _, p := range sim.Packages() {
				if deref(p.Notes) != "metadata only" {
					t.Fatalf("notes not written: %+v", p)
				}
			}
			assertConverged(t, sim, "Ready.pkg", pkg)
		})
	}
}

// A server that matches names ignoring case: the record it returns for
// another casing is ours; no second record, no DUPLICATE_FIELD.
func TestCaseInsensitiveServer(t *testing.T) {
	sim := newSim(t, jamfsim.Config{CaseInsensitiveNames: true})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "tool.pkg", 1<<20, 65)
	env := baseEnv(t, sim, pkg)
	env["pkg_display_name"] = "Tool"
	mustRun(t, sim, env)
	env["pkg_name"] = "Tool.pkg"
	env["pkg_display_name"] = "Tool 2"
	env["replace_pkg"] = "True"
	r := runEnv(t, sim, env, 0)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(string(r.stderr), "differs from Tool.pkg only in letter case") {
		t.Fatalf("the case difference should be said:\n%s", r.stderr)
	}
	if recs := sim.Packages(); len(recs) != 1 {
		t.Fatalf("want one record, got %v", recs)
	}
	for _, p := range sim.Packages() {
		if p.FileName != "Tool.pkg" {
			t.Fatalf("the record should now name Tool.pkg: %+v", p)
		}
	}
}

// Renewed S3 credentials whose path differs: JamfSync keeps the
// original key and carries on, and so do we.
func TestRenewedCredentialsWithAnotherPath(t *testing.T) {
	sim := newSim(t, jamfsim.Config{CredentialLifetime: 2 * time.Second, RenewNewPath: true})
	pkg := writePkg(t, t.TempDir(), "Renew.pkg", 24<<20, 66)
	sim.Delay("UploadPart", 1200*time.Millisecond, 3)
	env := baseEnv(t, sim, pkg)
	env["jcds2_concurrency"] = "1"
	env["verbose"] = uint64(2)
	r := runEnv(t, sim, env, 0)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(strings.Join(calls(sim), " "), "POST /api/v1/jcds/renew-credentials") {
		t.Fatalf("the credentials should have been renewed: %v", calls(sim))
	}
	if !strings.Contains(string(r.stderr), "still uploading to") {
		t.Fatalf("the differing path should be noted at verbose 2:\n%s", r.stderr)
	}
	assertConverged(t, sim, "Renew.pkg", pkg)
	if open, _ := sim.UnfinishedUploads(context.Background()); len(open) != 0 {
		t.Fatalf("unfinished uploads: %v", open)
	}
}

// cdnType NONE: a clear error before anything is written.
func TestNoCloudDistributionPoint(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "NONE"})
	pkg := writePkg(t, t.TempDir(), "None.pkg", 1<<20, 67)
	r := runEnv(t, sim, baseEnv(t, sim, pkg), 0)
	if r.code != 10 || !strings.Contains(r.lastLine(), "has no cloud distribution point (cdnType NONE)") {
		t.Fatalf("exit %d: %s", r.code, r.lastLine())
	}
	if len(writes(sim)) != 0 {
		t.Fatalf("nothing may be written: %v", writes(sim))
	}
}
