package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// The commands people run: pkg, sim, demo, manifest, version, help.

func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestPkgCommand(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Cli Tool.pkg", 9<<20, 31)
	creds := []string{"JSS_URL=" + sim.URL, "CLIENT_ID=" + jamfsim.DefaultClientID, "CLIENT_SECRET=" + jamfsim.DefaultClientSecret, "AWS_ENDPOINT_URL_S3=" + sim.S3Endpoint()}

	out, errs, code := runCLI(t, creds, "pkg", "--pkg", pkg, "--category", "Testing", "--name", "CLI Tool", "--dry-run")
	if code != 0 || !strings.Contains(errs, "Dry run: would upload Cli Tool.pkg (9.0 MiB) to JCDS") || len(sim.Packages()) != 0 {
		t.Fatalf("dry run: %d\n%s%s", code, out, errs)
	}
	out, errs, code = runCLI(t, creds, "pkg", "--pkg", pkg, "--category", "Testing", "--name", "CLI Tool", "--json", "-vv", "--key", "jcds2_verify_timeout=30")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if res["pkg_uploaded"] != true || res["pkg_display_name"] != "CLI Tool" || res["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("result: %v", res)
	}
	if strings.Contains(out+errs, jamfsim.DefaultClientSecret) {
		t.Fatal("the secret was printed")
	}
	assertConverged(t, sim, "Cli Tool.pkg", pkg)

	// Credentials from an AutoPkg prefs plist; the plain result line.
	prefs := filepath.Join(t.TempDir(), "prefs.plist")
	data, _ := processor.EncodeEnv(processor.Env{"JSS_URL": sim.URL, "API_USERNAME": jamfsim.DefaultUser, "API_PASSWORD": jamfsim.DefaultPassword}, processor.FormatXML)
	os.WriteFile(prefs, data, 0o600)
	out, errs, code = runCLI(t, []string{"AWS_ENDPOINT_URL_S3=" + sim.S3Endpoint()}, "pkg", "--prefs", prefs, "--pkg", pkg)
	if code != 0 || out != "Cli Tool.pkg: unchanged (package id 1)\n" {
		t.Fatalf("prefs run: %d %q %s", code, out, errs)
	}

	if _, errs, code := runCLI(t, creds, "pkg", "--category", "Testing"); code != 2 || !strings.Contains(errs, "no package given") {
		t.Fatalf("missing --pkg: %d %s", code, errs)
	}
	if _, errs, code := runCLI(t, creds, "pkg", "--pkg", pkg, "--key", "novalue"); code != 2 || !strings.Contains(errs, `--key "novalue" is not KEY=VALUE`) {
		t.Fatalf("bad --key: %d %s", code, errs)
	}
}

func TestHelpVersionManifest(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"pkg", "--help"}, {"sim", "--help"}, {"demo", "--help"}} {
		out, errs, code := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(out+errs, "Usage") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	out, _, code := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "jcds2-uploader ") {
		t.Fatalf("version: %q", out)
	}
	out, _, code = runCLI(t, nil, "manifest")
	var m processor.Manifest
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("manifest: %d %s", code, out)
	}
	want := processor.GetManifest()
	wantJSON, _ := json.Marshal(want)
	var wantBack processor.Manifest
	json.Unmarshal(wantJSON, &wantBack)
	if !reflect.DeepEqual(m, wantBack) {
		t.Fatal("manifest output differs from the manifest")
	}
}

func TestSimCommandServesUploads(t *testing.T) {
	cmd := exec.Command(binary, "sim", "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	var url, s3 string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (url == "" || s3 == "") {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "export JSS_URL="); ok {
			url = v
		}
		if v, ok := strings.CutPrefix(line, "export AWS_ENDPOINT_URL_S3="); ok {
			s3 = v
		}
	}
	if url == "" || s3 == "" {
		t.Fatal("sim did not print its URL and S3 endpoint")
	}
	pkg := writePkg(t, t.TempDir(), "FromSim.pkg", 1<<20, 32)
	_, errs, code := runCLI(t, []string{"JSS_URL=" + url, "API_USERNAME=" + jamfsim.DefaultUser, "API_PASSWORD=" + jamfsim.DefaultPassword, "AWS_ENDPOINT_URL_S3=" + s3}, "pkg", "--pkg", pkg, "--key", "jcds2_verify_timeout=30")
	if code != 0 {
		t.Fatalf("upload to jcds2-uploader sim: %d\n%s", code, errs)
	}
}

func TestDemo(t *testing.T) {
	out, errs, code := runCLI(t, nil, "demo")
	if code != 0 {
		t.Fatalf("demo: %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		`pkg_uploaded=true pkg_metadata_updated=true pkg_id=1 status="uploaded, verified" summary=true`,
		`pkg_uploaded=false pkg_metadata_updated=false pkg_id=1 status="unchanged" summary=false`,
		"-> S3 saw 0 requests",
		"The simulator now holds 1 package record(s) and 1 file(s)",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestDuplicatesWithOurBytesAreRemoved(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Dupe.pkg", 1<<20, 33)
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	// A copy an earlier clash left (our bytes, no record names it), a
	// file with other bytes, and a package of its own whose name only
	// looks like a duplicate.
	ctx := context.Background()
	for name, body := range map[string][]byte{"Dupe_1.pkg": data, "Dupe_2.pkg": []byte("left by another tool"), "Dupe_2019.pkg": data} {
		if err := sim.PutFile(ctx, name, body); err != nil {
			t.Fatal(err)
		}
	}
	sim.AddPackage(jamfsim.Package{PackageName: "Dupe 2019", FileName: "Dupe_2019.pkg", CategoryID: "-1", Priority: 10})
	env := baseEnv(t, sim, pkg)
	r := runEnv(t, sim, env, processor.FormatBinary)
	if r.code != 0 || !strings.Contains(string(r.stderr), "JCDS also holds Dupe_1.pkg, a copy of Dupe.pkg with the same bytes that no record names: removing it") ||
		strings.Contains(string(r.stderr), "Dupe_2019") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	files := sim.Files()
	if _, ok := files["Dupe_1.pkg"]; ok {
		t.Fatal("the copy with our bytes should be removed")
	}
	for _, keep := range []string{"Dupe_2.pkg", "Dupe_2019.pkg"} {
		if _, ok := files[keep]; !ok {
			t.Fatalf("%s is not ours and must stay", keep)
		}
	}
}

func TestClassicUpdateOnOldServer(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Version: "11.4.0"})
	env, pkg := uploadedThenRebuilt(t, sim, "Classic.pkg", 1<<20, 34)
	env["replace_pkg"], env["pkg_notes"] = "True", `Notes with <xml> & "quotes"`
	sim.ResetLog()
	out := mustRun(t, sim, env)
	if out["pkg_uploaded"] != true || !strings.Contains(strings.Join(calls(sim), ","), "PUT /JSSResource/packages/id/1") {
		t.Fatalf("replace on 11.4 should PUT the Classic record: %v %v", out, calls(sim))
	}
	rec := sim.Packages()[1]
	if deref(rec.Notes) != `Notes with <xml> & "quotes"` || deref(rec.HashType) != "MD5" || deref(rec.HashValue) != fileMD5(t, pkg) {
		t.Fatalf("record: %+v", rec)
	}
	assertConverged(t, sim, "Classic.pkg", pkg)
}
