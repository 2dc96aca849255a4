package processor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func validPkg(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "Good.pkg")
	if err := os.WriteFile(p, []byte("package"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// credEnv is an env whose credentials are the kind that key belongs to.
func credEnv(t *testing.T, key, value string) Env {
	env := Env{"JSS_URL": "https://x.jamfcloud.com", "pkg_path": validPkg(t)}
	switch key {
	case "BEARER_TOKEN":
		env["BEARER_TOKEN"] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
	case "API_USERNAME", "API_PASSWORD":
		env["API_USERNAME"], env["API_PASSWORD"] = "admin", "correct horse battery"
	default:
		env["CLIENT_ID"], env["CLIENT_SECRET"] = "0f8e6a52-3d1c-4c55-9d3b-6f2b1e0e9a11", "s3cr3t-v4lue-0123456789"
	}
	env[key] = value
	return env
}

func wantInputError(t *testing.T, name string, env Env, prefix string, mustNotShow string) {
	t.Helper()
	_, _, err := BuildRequest(env)
	if err == nil {
		t.Fatalf("%s: accepted", name)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("%s: got %q, want a line starting %q", name, msg, prefix)
	}
	if mustNotShow != "" && strings.Contains(msg, mustNotShow) {
		t.Fatalf("%s: the message shows the secret: %q", name, msg)
	}
}

// Every credential is sent as a header or a form value: none may hold a
// line break, a NUL, DEL, C0 or C1 control character or invalid UTF-8,
// wherever in the value, and a secret is never shown in the message.
func TestCredentialsHoldNothingHTTPCannotSend(t *testing.T) {
	bad := map[string]string{
		"newline at the end": "\n", "CR LF": "\r\n", "NUL": "\x00", "DEL": "\x7f", "escape": "\x1b",
		"tab": "\t", "C1 next line": "\u0085", "invalid UTF-8": "\xff",
	}
	for _, key := range []string{"BEARER_TOKEN", "API_USERNAME", "API_PASSWORD", "CLIENT_ID", "CLIENT_SECRET"} {
		secret := IsSecretKey(key)
		base := map[string]string{"BEARER_TOKEN": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "API_USERNAME": "admin"}[key]
		if base == "" {
			base = "a-long-credential-value"
		}
		for what, c := range bad {
			for _, v := range []string{base + c, c + base, base[:4] + c + base[4:]} {
				not := ""
				if secret {
					not = base[4:]
				}
				wantInputError(t, key+" "+what, credEnv(t, key, v), key+" ", not)
			}
		}
		wantInputError(t, key+" too long", credEnv(t, key, strings.Repeat("a", 9000)), key+" is 9000 bytes long: a credential is at most 8192 bytes", "")
		// Good values pass.
		if _, _, err := BuildRequest(credEnv(t, key, base)); err != nil {
			t.Fatalf("%s %q: %v", key, base, err)
		}
	}
	// Printable text that a header cannot hold as a bearer token.
	for v, prefix := range map[string]string{
		"Bearer eyJhbGciOiJIUzI1NiJ9.x": `BEARER_TOKEN starts with "Bearer ": give the token alone`,
		"eyJhbGci OiJIUzI1NiJ9":         "BEARER_TOKEN contains white space: give the token alone",
		`"eyJhbGciOiJIUzI1NiJ9"`:        "BEARER_TOKEN contains a character a bearer token cannot hold",
		"eyJhbGciOiJIUzI1NiJ9;x=y":      "BEARER_TOKEN contains a character a bearer token cannot hold",
		"==":                            "BEARER_TOKEN holds only = signs",
	} {
		wantInputError(t, v, credEnv(t, "BEARER_TOKEN", v), prefix, "OiJIUzI1NiJ9")
	}
	if _, _, err := BuildRequest(credEnv(t, "BEARER_TOKEN", "abc-._~+/xyz==")); err != nil {
		t.Fatalf("every b64token character: %v", err)
	}
	wantInputError(t, "colon in user", credEnv(t, "API_USERNAME", "domain:admin"), `API_USERNAME "domain:admin" contains a colon, which HTTP Basic authentication cannot carry`, "")
	// Passwords may hold any printable text, colons and spaces included.
	if _, _, err := BuildRequest(credEnv(t, "API_PASSWORD", "pa:ss wörd ✓ \"'`")); err != nil {
		t.Fatalf("printable password: %v", err)
	}
}

func TestJSSURLHoldsNothingHTTPCannotSend(t *testing.T) {
	for raw, prefix := range map[string]string{
		"https://exa mple.com":                        "is not a valid URL",
		"https://example.com\r\nX-Evil: 1":            "is not a valid URL",
		"https://ex\tample.com":                       "is not a valid URL",
		"https://example.com:0":                       "has an invalid port",
		"https://example.com:99999":                   "has an invalid port",
		"https://example.com:":                        "has an invalid port",
		"https://exämple.com":                         "has an invalid host name (non-ASCII letters)",
		"https://a..b.com":                            "has an invalid host name (an empty or over-long part between dots)",
		"https://ex!ample.com":                        "has an invalid host name (the character '!')",
		"https://[::zz]":                              "is not a valid URL",
		"https://example.com/pa%0Ath":                 "has a control character or invalid UTF-8 in its path",
		"https://example.com/pa%FFth":                 "has a control character or invalid UTF-8 in its path",
		"https://example.com/#":                       "has a query or fragment",
		"https://example.com/?":                       "has a query or fragment",
		"https://" + strings.Repeat("a", 64) + ".com": "has an invalid host name",
	} {
		_, _, err := NormalizeURL(raw, true)
		if err == nil || !strings.HasPrefix(err.Error(), "JSS_URL ") || !strings.Contains(err.Error(), prefix) || strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("%q: got %v, want JSS_URL ... %s", raw, err, prefix)
		}
	}
	for raw, want := range map[string]string{
		"https://example.com:8443/jss":   "https://example.com:8443/jss",
		"https://[::1]:8443":             "https://[::1]:8443",
		"https://jamf_pro.corp.example":  "https://jamf_pro.corp.example",
		"https://example.com/a%20b/":     "https://example.com/a%20b",
		"https://xn--exmple-cua.com":     "https://xn--exmple-cua.com",
		"https://example.com./":          "https://example.com.",
		"https://192.0.2.7:8443/context": "https://192.0.2.7:8443/context",
		// Surrounding white space is trimmed, never sent.
		" https://example.com\n": "https://example.com",
	} {
		if got, _, err := NormalizeURL(raw, false); err != nil || got != want {
			t.Errorf("%q: got %q %v, want %q", raw, got, err, want)
		}
	}
}

// The S3 endpoint override, from the input or the environment, obeys the
// rule of JSS_URL: plain http only to loopback, or with insecure_mode and
// a warning; and the one the engine would use is the one checked.
func TestS3EndpointFollowsTheJSSURLRule(t *testing.T) {
	for _, k := range s3EndpointSources[1:] {
		t.Setenv(k, "")
	}
	cases := []struct {
		input, s3env, anyEnv string
		insecure             bool
		want, warn, err      string
	}{
		{input: "http://127.0.0.1:9000", want: "http://127.0.0.1:9000"},
		{input: "http://localhost:9000/", want: "http://localhost:9000"},
		{input: "https://s3.example.com", want: "https://s3.example.com"},
		{input: "http://minio.lan:9000", err: `jcds2_s3_endpoint "http://minio.lan:9000" uses plain http: use https, or set insecure_mode to True if you really mean it`},
		{input: "http://minio.lan:9000", insecure: true, want: "http://minio.lan:9000", warn: "WARNING: the S3 endpoint jcds2_s3_endpoint uses plain http"},
		{s3env: "http://minio.lan:9000", err: `AWS_ENDPOINT_URL_S3 (from the environment) "http://minio.lan:9000" uses plain http`},
		{anyEnv: "http://minio.lan:9000", err: `AWS_ENDPOINT_URL (from the environment) "http://minio.lan:9000" uses plain http`},
		{s3env: "https://s3.example.com", anyEnv: "http://ignored.lan", want: "https://s3.example.com"},
		{input: "https://s3.example.com", s3env: "http://ignored.lan", want: "https://s3.example.com"},
		{s3env: "http://127.0.0.1:9000", want: "http://127.0.0.1:9000"},
		{input: "not a url", err: `jcds2_s3_endpoint "not a url" is not an http(s) URL: give e.g. http://127.0.0.1:9000, or leave it empty`},
		{s3env: "ftp://x", err: `AWS_ENDPOINT_URL_S3 (from the environment) "ftp://x" is not an http(s) URL: give e.g. http://127.0.0.1:9000, or unset it`},
		{input: "https://user:pw@s3.example.com", err: "jcds2_s3_endpoint must not contain a user name or password"},
		{input: "https://s3 .example.com", err: `jcds2_s3_endpoint "https://s3 .example.com" is not an http(s) URL`},
		{input: "https://s3.example.com\n", err: `jcds2_s3_endpoint "https://s3.example.com\n" is not an http(s) URL`},
		{input: "https://s3.example.com:70000", err: "has an invalid port"},
	}
	for _, c := range cases {
		t.Setenv("AWS_ENDPOINT_URL_S3", c.s3env)
		t.Setenv("AWS_ENDPOINT_URL", c.anyEnv)
		env := credEnv(t, "CLIENT_ID", "id")
		env["jcds2_s3_endpoint"] = c.input
		if c.insecure {
			env["insecure_mode"] = "True"
		}
		req, warnings, err := BuildRequest(env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: got %v, want %s", c, err, c.err)
			}
			continue
		}
		if err != nil || req.S3Endpoint != c.want {
			t.Errorf("%+v: got %q %v", c, req.S3Endpoint, err)
			continue
		}
		joined := strings.Join(warnings, "\n")
		if c.warn != "" && !strings.Contains(joined, c.warn) || c.warn == "" && strings.Contains(joined, "S3 endpoint") {
			t.Errorf("%+v: warnings %q", c, warnings)
		}
	}
}
