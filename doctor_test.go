package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/doctor"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// The doctor tests run the real binary against the simulator, one per
// situation a first setup meets; the exit code is the contract. Every
// run is searched for secrets, and the simulator's log must show that
// doctor wrote nothing.

// credentialVars are the variables doctor (like pkg) reads; the tests
// give them explicitly, never inherited.
var credentialVars = []string{"JSS_URL", "CLIENT_ID", "CLIENT_SECRET", "API_USERNAME", "API_PASSWORD", "BEARER_TOKEN"}

type doctorRun struct {
	code   int
	stdout string
	stderr string
	report doctor.Report // with --json
}

// runDoctor runs `jcds2-uploader doctor args...` with the environment
// vars added to this process's (minus any credentials of its own).
func runDoctor(t *testing.T, sim *jamfsim.Server, vars map[string]string, args ...string) doctorRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"doctor"}, args...)...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !contains(credentialVars, k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := doctorRun{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	secrets := append(sim.IssuedSecrets(), jamfsim.DefaultPassword, jamfsim.DefaultClientSecret, "wrong-secret-5678", smbPassword)
	for _, s := range secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Fatalf("a secret (%.6s...) reached stdout or stderr", s)
		}
	}
	secretsChecked.Add(1)
	if contains(args, "--json") {
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r.report); err != nil {
			t.Fatalf("--json output is not the report: %v\n%s", err, r.stdout)
		}
	}
	assertReadOnly(t, sim)
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// assertReadOnly: doctor's only requests other than GET are minting its
// token and invalidating it, and it never touches S3.
func assertReadOnly(t *testing.T, sim *jamfsim.Server) {
	t.Helper()
	allowed := map[string]bool{"POST /api/v1/oauth/token": true, "POST /api/oauth/token": true,
		"POST /api/v1/auth/token": true, "POST /api/v1/auth/invalidate-token": true}
	for _, e := range sim.Log() {
		if e.Method != "GET" && !allowed[e.Method+" "+e.Path] {
			t.Errorf("doctor sent %s", e)
		}
	}
	if n := len(sim.S3Log()); n != 0 {
		t.Errorf("doctor sent %d S3 requests", n)
	}
}

func clientVars(sim *jamfsim.Server) map[string]string {
	return map[string]string{"JSS_URL": sim.URL, "CLIENT_ID": jamfsim.DefaultClientID, "CLIENT_SECRET": jamfsim.DefaultClientSecret}
}

// line finds the report line of check (text output), or fails.
func (r doctorRun) line(t *testing.T, check string) string {
	t.Helper()
	for _, l := range strings.Split(r.stdout, "\n") {
		if len(l) > 6 && strings.HasPrefix(l[6:], check+": ") {
			return l
		}
	}
	t.Fatalf("no %q line in:\n%s", check, r.stdout)
	return ""
}

// expect checks the exit code and that each check's line starts with
// its status and holds the text given.
func (r doctorRun) expect(t *testing.T, code int, lines map[string][2]string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, code, r.stdout, r.stderr)
	}
	for check, want := range lines {
		l := r.line(t, check)
		if !strings.HasPrefix(l, want[0]+" ") || !strings.Contains(l, want[1]) {
			t.Errorf("want %s ... %q, got\n%s", want[0], want[1], l)
		}
	}
}

func TestDoctorFullPrivilegesOnJCDS(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	r := runDoctor(t, sim, clientVars(sim), "-vvvv")
	r.expect(t, 0, map[string][2]string{
		"route":                     {"OK", "JCDS 2.0"},
		"auth":                      {"OK", "API client"},
		"token":                     {"OK", "lifetime 30m0s"},
		"clock":                     {"OK", "within"},
		"cloud distribution point":  {"OK", "cdnType JAMF_CLOUD"},
		"privilege Read Packages":   {"OK", "GET /api/v1/packages answers"},
		"privilege Create Packages": {"OK", "administrator"},
		"JCDS endpoints":            {"OK", "answers"},
		"privilege " + jamfsim.PrivCreateJCDSFiles: {"OK", "administrator"},
	})
	if !strings.Contains(r.stdout, "Verdict: a run would work (route JCDS 2.0)") || strings.Contains(r.stdout, "WARN") {
		t.Fatalf("verdict:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "GET /api/v1/jcds/files -> 200") {
		t.Fatalf("-vvvv logs every request:\n%s", r.stderr)
	}
	if sim.LiveTokens() != 0 {
		t.Fatal("doctor must invalidate the token it minted")
	}

	// The same with a user account, and with a bearer token minted
	// elsewhere, which doctor neither mints nor invalidates.
	sim.ResetLog()
	r = runDoctor(t, sim, map[string]string{"JSS_URL": sim.URL, "API_USERNAME": jamfsim.DefaultUser, "API_PASSWORD": jamfsim.DefaultPassword}, "-vvvv")
	r.expect(t, 0, map[string][2]string{"auth": {"OK", `user "admin"`}})
	tok := mintToken(t, sim)
	sim.ResetLog()
	r = runDoctor(t, sim, map[string]string{"JSS_URL": sim.URL, "BEARER_TOKEN": tok}, "-vvvv")
	r.expect(t, 0, map[string][2]string{"auth": {"OK", "BEARER_TOKEN"}, "token": {"OK", "cannot be renewed"}})
	for _, e := range sim.Log() {
		if e.Method != "GET" {
			t.Fatalf("with a given token doctor sends nothing but GETs, saw %s", e)
		}
	}
	if sim.LiveTokens() != 1 {
		t.Fatal("a given token must be left alone")
	}
}

// mintToken gets a user token the way another tool would.
func mintToken(t *testing.T, sim *jamfsim.Server) string {
	t.Helper()
	req, _ := http.NewRequest("POST", sim.URL+"/api/v1/auth/token", nil)
	req.SetBasicAuth(jamfsim.DefaultUser, jamfsim.DefaultPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("minting a token: %v", err)
	}
	return out.Token
}

func TestDoctorJamfPackageUploaderRole(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: jamfsim.JamfPackageUploaderRole}})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 0, map[string][2]string{
		"route":                     {"OK", `packages API (POST /api/v1/packages/{id}/upload): the account lacks the "Read Jamf Cloud Distribution Service Files" privilege`},
		"privilege Update Packages": {"OK", "GET /api/v1/auth lists it"},
		"JCDS endpoints":            {"OK", "403 for this account"},
		"privileges JCDS":           {"WARN", `lacks the JCDS privileges "Read Jamf Cloud Distribution Service Files", "Create Jamf Cloud Distribution Service Files", "Delete Jamf Cloud Distribution Service Files", so runs take the packages route`},
		"file shares":               {"OK", `lacks "Read Distribution Points"`},
	})
}

func TestDoctorWithoutReadPackages(t *testing.T) {
	var role []string
	for _, p := range jamfsim.JCDSUploaderRole {
		if p != jamfsim.PrivReadPackages {
			role = append(role, p)
		}
	}
	sim := newSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: role}})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 1, map[string][2]string{
		"privilege Read Packages": {"FAIL", `the account lacks it (GET /api/v1/packages answered 403); every run looks its package record up: add "Read Packages" to the API role`},
		"route":                   {"OK", "JCDS 2.0"},
	})
	if !strings.Contains(r.stdout, "Verdict: a run would fail: fix the 1 problem marked FAIL") {
		t.Fatalf("verdict:\n%s", r.stdout)
	}
}

func TestDoctorWithoutJCDS(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 0, map[string][2]string{
		"cloud distribution point": {"OK", "cdnType AMAZON_S3"},
		"JCDS endpoints":           {"OK", "no JCDS 2.0 (GET /api/v1/jcds/files answered 500; cdnType AMAZON_S3)"},
		"route":                    {"OK", "packages API (POST /api/v1/packages/{id}/upload): the cloud distribution point is AMAZON_S3, not Jamf Cloud"},
	})
}

func TestDoctorCDNTypeNone(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "NONE"})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 1, map[string][2]string{
		"cloud distribution point": {"FAIL", "cdnType NONE"},
		"route":                    {"FAIL", "has no cloud distribution point (cdnType NONE)"},
	})
}

// An on-premises server: no cloud distribution point, a file share,
// CLOUD_DP off. A run copies to the share and writes the record only.
func TestDoctorFileSharesWithoutCloud(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "NONE", FileShares: []jamfsim.FileShare{{Name: "Main", Server: "files.example.com", ShareName: "CasperShare", Master: true}}})
	vars := clientVars(sim)
	vars["SMB_PASSWORD"] = smbPassword // secrets come from the environment, never --key
	r := runDoctor(t, sim, vars, "--key", "SMB_URL=smb://files.example.com/CasperShare", "--key", "SMB_USERNAME=uploader",
		"--key", "CLOUD_DP=False")
	r.expect(t, 0, map[string][2]string{
		"cloud distribution point": {"OK", "cdnType NONE"},
		"route":                    {"OK", "file shares with CLOUD_DP off"},
	})
}

func TestDoctorJCDSEndpointsRemoved(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDSEndpoints: true})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 0, map[string][2]string{
		"JCDS endpoints": {"WARN", "deprecated endpoints gone: GET /api/v1/jcds/files answers 404"},
		"route":          {"OK", "packages API (POST /api/v1/packages/{id}/upload): the JCDS endpoints are gone (404)"},
	})
}

func TestDoctorOldServer(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Version: "10.49.0"})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 0, map[string][2]string{
		"version":                 {"OK", "Jamf Pro 10.49.0: before 11.5, so records go through the Classic API"},
		"privilege Read Packages": {"OK", "GET /JSSResource/packages/name/"},
		"route":                   {"OK", "JCDS 2.0 (S3 multipart upload; records through the Classic API)"},
	})
}

func TestDoctorSelfSignedTLS(t *testing.T) {
	sim := newSim(t, jamfsim.Config{TLS: true})
	r := runDoctor(t, sim, clientVars(sim))
	r.expect(t, 1, map[string][2]string{"tls": {"FAIL", "does not verify (x509: certificate signed by unknown authority)"}})
	if len(sim.Log()) != 0 {
		t.Fatalf("an untrusted server gets no credentials, saw %v", sim.Log())
	}
	r = runDoctor(t, sim, clientVars(sim), "--insecure")
	r.expect(t, 0, map[string][2]string{
		"tls":   {"WARN", "insecure_mode turns verification off"},
		"route": {"OK", "JCDS 2.0"},
	})
}

// smbPassword is a share's password the tests give doctor.
const smbPassword = "smb-password-5678"

// Jamf Pro lists two file shares, the inputs name one of them and one
// it does not list.
func TestDoctorFileShares(t *testing.T) {
	sim := newSim(t, jamfsim.Config{FileShares: []jamfsim.FileShare{
		{Name: "Main", Server: "files.example.com", ShareName: "CasperShare", Master: true},
		{Name: "Branch", Server: "branch.example.com", ShareName: "Packages"},
	}})
	vars := clientVars(sim)
	vars["SMB_PASSWORD"], vars["SMB2_PASSWORD"] = smbPassword, smbPassword // from the environment, never --key
	r := runDoctor(t, sim, vars, "-vvvv", "--key", "SMB_URL=smb://FILES.example.com/caspershare", "--key", "SMB_USERNAME=uploader",
		"--key", "SMB2_URL=smb://old.example.com/share", "--key", "SMB2_USERNAME=u")
	r.expect(t, 0, map[string][2]string{"file shares": {"WARN", "Jamf Pro lists Main (smb://files.example.com/CasperShare), Branch (smb://branch.example.com/Packages); " +
		"the inputs name SMB_URL smb://FILES.example.com/caspershare, SMB2_URL smb://old.example.com/share, where runs copy packages; " +
		"runs copy nothing to Branch (smb://branch.example.com/Packages); SMB2_URL smb://old.example.com/share is not a share Jamf Pro lists"}})
	r = runDoctor(t, sim, clientVars(sim), "--key", "SMB_URL=smb://files.example.com/CasperShare")
	r.expect(t, 1, map[string][2]string{"file shares": {"FAIL", "SMB_URL defined but no credentials supplied"}})
}

func TestDoctorWrongCredentials(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	vars := clientVars(sim)
	vars["CLIENT_SECRET"] = "wrong-secret-5678"
	r := runDoctor(t, sim, vars)
	r.expect(t, 1, map[string][2]string{"auth": {"FAIL", "Jamf Pro refused API client"}})
	r = runDoctor(t, sim, map[string]string{"JSS_URL": sim.URL, "API_USERNAME": "admin", "API_PASSWORD": "wrong-secret-5678"})
	r.expect(t, 1, map[string][2]string{"auth": {"FAIL", `Jamf Pro refused user "admin" and its password (401)`}})
	r = runDoctor(t, sim, map[string]string{"JSS_URL": sim.URL})
	r.expect(t, 1, map[string][2]string{"inputs": {"FAIL", "no Jamf Pro credentials"}})
}

func TestDoctorRecipeCategories(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Categories: []string{"Browsers"}})
	dir := filepath.Join(t.TempDir(), "recipes")
	os.MkdirAll(filepath.Join(dir, "Firefox"), 0o755)
	os.WriteFile(filepath.Join(dir, "Firefox", "Firefox.jamf.recipe.yaml"), []byte("Input:\n  NAME: Firefox\n  CATEGORY: Browsers\nProcess:\n  - Processor: com.github.jcds2-uploader.processors/JCDS2PackageUploader\n    Arguments:\n      pkg_category: \"%CATEGORY%\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Zoom.jamf.recipe.yaml"), []byte("Input:\n  CATEGORY: Video Calls\n"), 0o644)
	r := runDoctor(t, sim, clientVars(sim), "--recipes", dir)
	r.expect(t, 1, map[string][2]string{
		"recipes":                   {"OK", "2 recipe files under " + dir + " name 2 categories"},
		`category "Browsers"`:       {"OK", "exists (id 1); named by recipes/Firefox/Firefox.jamf.recipe.yaml"},
		`category "Video Calls"`:    {"FAIL", "does not exist in Jamf Pro, so runs of recipes/Zoom.jamf.recipe.yaml fail"},
		"privilege Read Categories": {"OK", "answers"},
	})
}

// The --json shape: {url, checks: [{check, status, detail}], verdict},
// decoded strictly (no unknown field), credentials from a prefs plist.
func TestDoctorJSON(t *testing.T) {
	sim := newSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultUser: jamfsim.JamfPackageUploaderRole}})
	prefs := filepath.Join(t.TempDir(), "prefs.plist")
	os.WriteFile(prefs, []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>
<key>JSS_URL</key><string>`+sim.URL+`</string><key>API_USERNAME</key><string>admin</string>
<key>API_PASSWORD</key><string>`+jamfsim.DefaultPassword+`</string></dict></plist>`), 0o600)
	r := runDoctor(t, sim, nil, "--prefs", prefs, "--json", "-vv")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep := r.report
	if rep.URL != sim.URL || len(rep.Checks) < 10 {
		t.Fatalf("report: %+v", rep)
	}
	seen := map[string]bool{}
	for _, c := range rep.Checks {
		if c.Status != doctor.OK && c.Status != doctor.Warn && c.Status != doctor.Fail || c.Check == "" || c.Detail == "" {
			t.Fatalf("malformed check %+v", c)
		}
		if seen[c.Check] {
			t.Fatalf("check %q twice", c.Check)
		}
		seen[c.Check] = true
	}
	v := rep.Verdict
	if !v.OK || v.Route != "packages-api" || v.Failures != 0 || v.Warnings != 1 || !strings.HasPrefix(v.Summary, "a run would work (route packages API), with 1 warning") {
		t.Fatalf("verdict: %+v", v)
	}
	if strings.Contains(r.stdout, "Verdict:") || !strings.HasPrefix(r.stdout, "{") {
		t.Fatal("--json prints JSON alone on stdout")
	}
}

// Help is exit 0, bad flags 2, and a bad --key is a FAIL line (exit 1)
// before any request.
func TestDoctorHelpAndBadFlags(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	if r := runDoctor(t, sim, nil, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: jcds2-uploader doctor") || r.stderr != "" {
		t.Fatalf("--help (on stdout): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runDoctor(t, sim, nil, "--no-such-flag"); r.code != 2 {
		t.Fatalf("an unknown flag: exit %d", r.code)
	}
	if r := runDoctor(t, sim, nil, "extra"); r.code != 2 || !strings.Contains(r.stderr, `unexpected argument "extra"`) {
		t.Fatalf("an argument: exit %d %s", r.code, r.stderr)
	}
	r := runDoctor(t, sim, clientVars(sim), "--key", "novalue")
	r.expect(t, 1, map[string][2]string{"inputs": {"FAIL", `--key "novalue" is not KEY=VALUE`}})
	if len(sim.Log()) != 0 {
		t.Fatalf("bad input must fail before any request, saw %v", sim.Log())
	}
}

// A server that stops answering mid-examination: doctor used to wait
// each request's timeout times its tries (607 s against a server that
// drips a byte a second). --deadline bounds the whole examination; the
// report says which check it cut and which flag gives more time (#22).
func TestDoctorDeadlineBoundsTheExamination(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	sim.Delay("GET /api/v1/jamf-pro-version", time.Minute, 1000)
	// Invalidating the token at the end gets 5 s of its own once the
	// deadline has passed, however long the server holds it.
	sim.Delay("POST /api/v1/auth/invalidate-token", time.Minute, 1000)
	defer sim.ClearFaults()
	start := time.Now()
	r := runDoctor(t, sim, clientVars(sim), "--deadline", "3s")
	took := time.Since(start)
	if took > 3*time.Second+5*time.Second+4*time.Second {
		t.Fatalf("doctor took %s with --deadline 3s and the invalidation held", took)
	}
	r.expect(t, 1, map[string][2]string{
		"auth":     {"OK", ""},
		"deadline": {"FAIL", "stopped after 3s (--deadline) during the version check, which was still waiting for the server (see above); checks after it did not run"},
	})
	if took > 15*time.Second {
		t.Fatalf("doctor took %s with --deadline 3s", took)
	}
	if r.code != 1 || strings.Contains(r.stdout, "privileges: ") {
		t.Fatalf("checks after the deadline ran:\n%s", r.stdout)
	}
	// A server that drips its answer a byte a second, from the token on.
	drip := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for range 600 {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	}))
	defer drip.Close()
	vars := clientVars(sim)
	vars["JSS_URL"] = drip.URL
	start = time.Now()
	r = runDoctor(t, sim, vars, "--deadline", "3s")
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("doctor took %s against a dripping server with --deadline 3s", took)
	}
	r.expect(t, 1, map[string][2]string{"deadline": {"FAIL", "stopped after 3s (--deadline) during the auth check"}})
	bad := runDoctor(t, sim, clientVars(sim), "--deadline", "0s")
	if bad.code != 2 || !strings.Contains(bad.stderr, "--deadline 0s: give a positive duration") {
		t.Fatalf("--deadline 0s: exit %d %s", bad.code, bad.stderr)
	}
}
