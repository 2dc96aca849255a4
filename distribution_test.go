package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// File-share distribution points through the binary, with the
// reference's CLOUD_DP rule: with shares configured, the cloud
// distribution point is uploaded to only when CLOUD_DP is true. The SMB
// protocol itself is tested against a real smbd in distpoint/; here
// file:// shares (plain directories) carry the same flow end to end.

func shareDir(t *testing.T) (url, packages string) {
	t.Helper()
	root := t.TempDir()
	packages = filepath.Join(root, "Packages")
	if err := os.Mkdir(packages, 0o755); err != nil {
		t.Fatal(err)
	}
	return "file://" + root, packages
}

func runDecoded(t *testing.T, sim *jamfsim.Server, env processor.Env, extra ...string) result {
	t.Helper()
	r := runWith(t, sim, env, extra...)
	if r.code == 0 {
		out, _, err := processor.DecodeEnv(r.stdout)
		if err != nil {
			t.Fatalf("stdout is not a plist: %v", err)
		}
		r.env = out
	}
	return r
}

func sameBytes(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s does not hold the bytes of %s", a, b)
	}
}

func TestFileShareWithoutCloud(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "Share.pkg", 3<<20, 51)
	url, packages := shareDir(t)
	env := baseEnv(t, sim, pkg)
	env["SMB_URL"] = url
	env["CLOUD_DP"] = "False"

	r := runDecoded(t, sim, env)
	if r.code != 0 || r.env["pkg_uploaded"] != true || r.env["pkg_metadata_updated"] != true {
		t.Fatalf("exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	sameBytes(t, filepath.Join(packages, "Share.pkg"), pkg)
	if files := sim.Files(); len(files) != 0 {
		t.Fatalf("CLOUD_DP False: nothing goes to the cloud distribution point, got %v", files)
	}
	// The record names the file the share holds, with its hash.
	sha3, _, err := jamfsim.FileSHA3(pkg)
	if err != nil {
		t.Fatal(err)
	}
	recs := sim.Packages()
	if len(recs) != 1 {
		t.Fatalf("want one record, got %v", recs)
	}
	for _, p := range recs {
		if p.FileName != "Share.pkg" || !strings.EqualFold(deref(p.HashValue), sha3) {
			t.Fatalf("record %+v", p)
		}
	}
	if strings.Contains(string(r.stderr), "/api/v1/jcds") || strings.Contains(strings.Join(calls(sim), " "), "/api/v1/jcds/") {
		t.Fatalf("no JCDS call without the cloud: %v", calls(sim))
	}

	// Unchanged: nothing copied, nothing written.
	st, _ := os.Stat(filepath.Join(packages, "Share.pkg"))
	sim.ResetLog()
	r = runDecoded(t, sim, env)
	if r.code != 0 || r.env["pkg_uploaded"] != false || r.env["pkg_metadata_updated"] != false {
		t.Fatalf("re-run: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	if st2, _ := os.Stat(filepath.Join(packages, "Share.pkg")); !os.SameFile(st, st2) || !st.ModTime().Equal(st2.ModTime()) {
		t.Fatal("an unchanged re-run must not copy again")
	}
	for _, c := range calls(sim) {
		if !strings.HasPrefix(c, "GET ") && !strings.Contains(c, "/auth") && !strings.Contains(c, "/oauth") {
			t.Fatalf("an unchanged re-run wrote to Jamf Pro: %v", calls(sim))
		}
	}

	// A new build with replace_pkg: the share and the record follow.
	writePkg(t, dir, "Share.pkg", 3<<20, 52)
	env["replace_pkg"] = "True"
	r = runDecoded(t, sim, env)
	if r.code != 0 || r.env["pkg_uploaded"] != true {
		t.Fatalf("replace: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	sameBytes(t, filepath.Join(packages, "Share.pkg"), pkg)
	sha3, _, _ = jamfsim.FileSHA3(pkg)
	for _, p := range sim.Packages() {
		if !strings.EqualFold(deref(p.HashValue), sha3) {
			t.Fatalf("after the replacement the record's hash must describe the new bytes: %+v", p)
		}
	}
}

func TestFileShareAndCloud(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Both.pkg", 2<<20, 53)
	url, packages := shareDir(t)
	env := baseEnv(t, sim, pkg)
	env["SMB_URL"] = url
	env["CLOUD_DP"] = "True"
	r := runDecoded(t, sim, env)
	if r.code != 0 || r.env["pkg_uploaded"] != true {
		t.Fatalf("exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	sameBytes(t, filepath.Join(packages, "Both.pkg"), pkg)
	assertConverged(t, sim, "Both.pkg", pkg)
}

// Every share is looked at before anything is written: one that cannot
// hold the package fails the run, naming it, and neither the other
// share nor Jamf Pro is changed.
func TestOneShareFailsBeforeAnythingIsWritten(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Half.pkg", 1<<20, 54)
	good, packages := shareDir(t)
	bad := t.TempDir()
	// A file where the Packages folder should be: nothing can go there.
	if err := os.WriteFile(filepath.Join(bad, "Packages"), []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(t, sim, pkg)
	env["SMB_URL"] = good
	env["SMB2_URL"] = "file://" + bad
	env["CLOUD_DP"] = "False"
	r := runDecoded(t, sim, env)
	if r.code != 10 || !strings.Contains(r.lastLine(), "file://"+bad) || !strings.Contains(r.lastLine(), "SMB2_URL") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(packages, "Half.pkg")); !os.IsNotExist(err) {
		t.Fatalf("the good share was written before every share was looked at (%v)", err)
	}
	if recs := sim.Packages(); len(recs) != 0 {
		t.Fatalf("a record was written: %v", recs)
	}
	if data, _ := os.ReadFile(filepath.Join(bad, "Packages")); string(data) != "not a folder" {
		t.Fatal("the failed share was changed")
	}
}

// aws_cdp_mode: the package goes to the customer's own S3 bucket with
// the standard AWS credential chain (here the environment), then the
// record, then a refresh, so the package is deployable when the run
// ends; an unchanged re-run uploads nothing.
func TestSelfHostedS3DistributionPoint(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "Aws.pkg", 6<<20, 55)
	env := baseEnv(t, sim, pkg)
	env["aws_cdp_mode"] = "True"
	env["S3_BUCKET_NAME"] = sim.Config().Bucket
	aws := []string{
		"AWS_ENDPOINT_URL_S3=" + minio.URL, "AWS_ACCESS_KEY_ID=" + minio.RootUser, "AWS_SECRET_ACCESS_KEY=" + minio.RootPassword,
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
	}
	r := runDecoded(t, sim, env, aws...)
	if r.code != 0 || r.env["pkg_uploaded"] != true || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	if strings.Contains(string(r.stderr), minio.RootPassword) {
		t.Fatal("the AWS secret reached the log")
	}
	assertConverged(t, sim, "Aws.pkg", pkg)
	r = runDecoded(t, sim, env, aws...)
	if r.code != 0 || r.env["pkg_uploaded"] != false || r.env["pkg_metadata_updated"] != false {
		t.Fatalf("re-run: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
}
