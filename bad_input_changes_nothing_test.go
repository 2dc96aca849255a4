package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// More bad input, part of the table in contract_test.go: values that
// fail validation (no request at all), and input only the server can
// judge (wrong credentials, a missing privilege or category, a server
// that is not what it seems). Each gives exit 10 and one line naming the
// input and what to do, and nothing is written on the server.

func TestMoreBadInputFailsBeforeAnyRequest(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	good := writePkg(t, t.TempDir(), "Good.pkg", 100, 5)
	cases := []struct {
		name string
		edit func(processor.Env)
		want string
	}{
		{"reboot_required", func(e processor.Env) { e["reboot_required"] = "sometimes" }, `ProcessorError: reboot_required is "sometimes", which is not a boolean: use True or False`},
		{"md5 2", func(e processor.Env) { e["md5"] = uint64(2) }, "ProcessorError: md5 is 2, which is not a boolean: use True or False"},
		{"insecure_mode", func(e processor.Env) { e["insecure_mode"] = "perhaps" }, `ProcessorError: insecure_mode is "perhaps", which is not a boolean: use True or False`},
		{"part size 3", func(e processor.Env) { e["jcds2_part_size_mb"] = "3" }, "ProcessorError: jcds2_part_size_mb is 3: S3 parts are at least 5 MiB; use 0 for the default"},
		{"concurrency 100", func(e processor.Env) { e["jcds2_concurrency"] = "100" }, `ProcessorError: jcds2_concurrency is "100": give a whole number from 0 to 64`},
		{"timeout 0", func(e processor.Env) { e["jcds2_timeout"] = "0" }, `ProcessorError: jcds2_timeout is "0": give a whole number from 1 to 3600`},
		{"s3 endpoint", func(e processor.Env) { e["jcds2_s3_endpoint"] = "not a url" }, `ProcessorError: jcds2_s3_endpoint "not a url" is not an http(s) URL: give e.g. http://127.0.0.1:9000, or leave it empty`},
		{"URL with query", func(e processor.Env) { e["JSS_URL"] = "https://jamf.example.com/?a=b" }, `ProcessorError: JSS_URL "https://jamf.example.com/?a=b" has a query or fragment: use just the server URL, e.g. https://yourorg.jamfcloud.com`},
		{"priority ten", func(e processor.Env) { e["pkg_priority"] = "ten" }, `ProcessorError: pkg_priority is "ten": give a whole number from 1 to 20`},
		{"display name control", func(e processor.Env) { e["pkg_display_name"] = "App\tName" }, `ProcessorError: pkg_display_name "App\tName" contains a control character: remove it`},
		{"backslash name", func(e processor.Env) { e["pkg_name"] = `a\b.pkg` }, `ProcessorError: pkg_name "a\\b.pkg" contains a slash: give a file name, not a path`},
		{"JSS_URL not a string", func(e processor.Env) { e["JSS_URL"] = []any{"x"} }, "ProcessorError: JSS_URL is a list, not a string: give it as a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim.ResetLog()
			env := baseEnv(t, sim, good)
			c.edit(env)
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 10 || r.lastLine() != c.want || strings.Count(string(r.stderr), "\n") != 1 {
				t.Fatalf("exit %d\n got  %s\n want %s", r.code, r.stderr, c.want)
			}
			if len(sim.Log()) != 0 {
				t.Fatalf("bad input must fail before any request: %v", sim.Log())
			}
		})
	}
	r := runBin(t, sim, bytes.Repeat([]byte("junk "), 20<<20))
	if r.code != 10 || r.lastLine() != "ProcessorError: stdin is larger than 64 MiB: send only the AutoPkg env plist" {
		t.Fatalf("100 MB of junk: exit %d %q", r.code, r.lastLine())
	}
}

// writes are the accepted requests that change something (token calls
// aside); a refused POST wrote nothing.
func writes(sim *jamfsim.Server) []string {
	var out []string
	for _, e := range sim.Log() {
		c := e.Method + " " + e.Path
		if e.Status < 400 && e.Method != "GET" && !strings.Contains(c, "/auth/") && !strings.Contains(c, "/oauth/") {
			out = append(out, c)
		}
	}
	return out
}

// (A wrong API client secret and an unknown category are shown as a
// script: testdata/script/bad_input_exits_10_and_changes_nothing.txtar.)
func TestBadInputTheServerJudges(t *testing.T) {
	cases := []struct {
		name   string
		cfg    jamfsim.Config
		setup  func(*jamfsim.Server)
		edit   func(processor.Env)
		prefix string
	}{
		{"wrong password", jamfsim.Config{}, nil, func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["API_USERNAME"], e["API_PASSWORD"] = "admin", "wrong-password"
		}, `ProcessorError: API_USERNAME and API_PASSWORD: Jamf Pro refused user "admin" and its password (401): check both, and that the account is enabled`},
		{"stale bearer token", jamfsim.Config{}, nil, func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["BEARER_TOKEN"] = "eyJhbGciOiJIUzI1NiJ9.expired"
		}, "ProcessorError: BEARER_TOKEN: the bearer token was refused by Jamf Pro (expired or invalid): mint a new one, or use an API client instead"},
		{"HTML instead of JSON", jamfsim.Config{}, func(s *jamfsim.Server) {
			s.Respond("GET /api/v1/jamf-pro-version", 200, "text/html", "<html><body>Please log in</body></html>", 1)
		}, nil, `ProcessorError: asking the Jamf Pro version: GET /api/v1/jamf-pro-version: Jamf Pro's answer is not the JSON expected`},
		{"JSON with wrong types", jamfsim.Config{}, func(s *jamfsim.Server) {
			s.Respond("GET /api/v1/packages", 200, "application/json", `{"totalCount":"many","results":{"id":1}}`, 1)
		}, nil, `ProcessorError: looking up package "Good.pkg": GET /api/v1/packages: Jamf Pro's answer is not the JSON expected`},
		// jcds2_mode prefers JCDS 2.0 and takes the packages route where
		// JCDS refuses (real_jamf_quirks_test.go); with no cloud distribution
		// point at all there is nowhere to upload.
		{"jcds2_mode without JCDS or cloud distribution point", jamfsim.Config{NoJCDS: true}, nil, func(e processor.Env) { e["jcds2_mode"] = "True" },
			"ProcessorError: http://"},
		{"jcds2_mode on an old server without JCDS", jamfsim.Config{NoJCDS: true, Version: "10.49.0"}, nil, func(e processor.Env) { e["jcds2_mode"] = "True" },
			"ProcessorError: Jamf Pro 10.49.0-t1785446884863 has no JCDS 2.0 and is older than 11.5"},
		{"old server without JCDS", jamfsim.Config{NoJCDS: true, Version: "10.49.0"}, nil, nil,
			"ProcessorError: Jamf Pro 10.49.0-t1785446884863 has no JCDS 2.0 and is older than 11.5, so it has no packages upload endpoint: upgrade Jamf Pro or upload by hand"},
		{"untrusted TLS", jamfsim.Config{TLS: true}, nil, nil, "ProcessorError: getting a token for API client \"" + jamfsim.DefaultClientID + "\": the TLS certificate of https://"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, c.cfg)
			if c.setup != nil {
				c.setup(sim)
			}
			env := baseEnv(t, sim, writePkg(t, t.TempDir(), "Good.pkg", 1<<20, 6))
			if c.edit != nil {
				c.edit(env)
			}
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 10 || !strings.HasPrefix(r.lastLine(), c.prefix) {
				t.Fatalf("exit %d\n got  %s\n want %s...", r.code, r.lastLine(), c.prefix)
			}
			if strings.Count(string(r.stderr), "ProcessorError") != 1 {
				t.Fatalf("one ProcessorError line: %s", r.stderr)
			}
			if w := writes(sim); len(w) != 0 {
				t.Fatalf("nothing may be written: %v", w)
			}
			if len(sim.Packages()) != 0 || len(sim.Files()) != 0 {
				t.Fatal("the server changed")
			}
		})
	}
}

func TestInsecureModeAcceptsAnUntrustedCertificateWithAWarning(t *testing.T) {
	sim := newSim(t, jamfsim.Config{TLS: true})
	pkg := writePkg(t, t.TempDir(), "Tls.pkg", 1<<20, 8)
	env := baseEnv(t, sim, pkg)
	env["insecure_mode"] = "True"
	r := runEnv(t, sim, env, processor.FormatBinary)
	if r.code != 0 || !strings.Contains(string(r.stderr), "WARNING: insecure_mode is set: TLS certificates are not verified.") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertConverged(t, sim, "Tls.pkg", pkg)
}
