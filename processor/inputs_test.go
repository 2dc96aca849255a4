package processor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	cases := []struct {
		in, want, warn string
		insecure       bool
	}{
		{in: "yourorg", want: "https://yourorg.jamfcloud.com"},
		{in: "https://jamf.example.com/", want: "https://jamf.example.com"},
		{in: "jamf.example.com:8443", want: "https://jamf.example.com:8443"},
		{in: "https://jamf.example.com/jss//", want: "https://jamf.example.com/jss"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "http://localhost:9", want: "http://localhost:9"},
		{in: "http://[::1]:9", want: "http://[::1]:9"},
		{in: "http://jamf.lan", want: "http://jamf.lan", insecure: true, warn: "WARNING: JSS_URL uses plain http"},
	}
	for _, c := range cases {
		got, warn, err := NormalizeURL(c.in, c.insecure)
		if err != nil || got != c.want || !strings.HasPrefix(warn, c.warn) || (c.warn == "") != (warn == "") {
			t.Errorf("%q: got %q, %q, %v; want %q", c.in, got, warn, err, c.want)
		}
	}
}

func TestBooleans(t *testing.T) {
	for v, want := range map[any]bool{true: true, false: false, "True": true, " yes ": true, "1": true, "FALSE": false, "no": false, "0": false, "": false, uint64(1): true, uint64(0): false} {
		got, err := Bool(Env{"k": v}, "k")
		if err != nil || got != want {
			t.Errorf("%#v: got %v %v", v, got, err)
		}
	}
	if _, err := Bool(Env{"k": "maybe"}, "k"); err == nil {
		t.Error("maybe is not a boolean")
	}
}

func baseEnvFor(t *testing.T, pkg string) Env {
	return Env{"JSS_URL": "https://x.jamfcloud.com", "CLIENT_ID": "id", "CLIENT_SECRET": "secret", "pkg_path": pkg}
}

func TestPkgPathResolution(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	os.WriteFile(filepath.Join(dir, "build", "Rel.pkg"), []byte("x"), 0o644)

	env := baseEnvFor(t, "build/Rel.pkg")
	env["RECIPE_DIR"] = dir
	req, _, err := BuildRequest(env)
	if err != nil || req.PkgPath != filepath.Join(dir, "build", "Rel.pkg") || req.PkgName != "Rel.pkg" {
		t.Fatalf("relative to RECIPE_DIR: %+v %v", req, err)
	}
	// pkg_path falls back to pathname when it names a .pkg, as in the reference.
	env = baseEnvFor(t, "")
	env["pathname"] = filepath.Join(dir, "build", "Rel.pkg")
	if req, _, err := BuildRequest(env); err != nil || req.PkgName != "Rel.pkg" {
		t.Fatalf("pathname fallback: %+v %v", req, err)
	}
	// A bundle gets .zip appended to its name.
	bundle := filepath.Join(dir, "Fluffy.pkg")
	os.MkdirAll(filepath.Join(bundle, "Contents"), 0o755)
	if req, _, err := BuildRequest(baseEnvFor(t, bundle)); err != nil || req.PkgName != "Fluffy.pkg.zip" || req.DisplayName != "Fluffy.pkg.zip" {
		t.Fatalf("bundle: %+v %v", req, err)
	}
}

// An input JamfPackageUploader honours and we do not stops the run when
// it holds anything but its default; at its default it is accepted.
func TestNotImplementedInputsStopTheRun(t *testing.T) {
	for _, env := range []Env{
		{"JAMF_CLI_PROFILE": "", "custom_curl_opts": nil, "skip_if": "False", "PLATFORM_API_REGION": "", "jcds_mode": "True"},
		{"skip_if": false, "SMB_URL": "smb://server/share", "aws_cdp_mode": "True"},
	} {
		if err := CheckNotImplemented(env); err != nil {
			t.Fatalf("%v: %v", env, err)
		}
	}
	for name, v := range map[string]any{"JAMF_CLI_PROFILE": "prod", "custom_curl_opts": "--max-time 9", "skip_if": "version == '1.0'", "PLATFORM_API_REGION": "us", "PLATFORM_API_TENANT_ID": "t1"} {
		err := CheckNotImplemented(Env{name: v, "jcds_mode": "True"})
		var ni *NotImplementedError
		if !errors.As(err, &ni) || ni.Input != name || !strings.HasPrefix(err.Error(), name+" is set to ") || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("%s=%v: %v", name, v, err)
		}
	}
}

func TestLoggerScrubsSecrets(t *testing.T) {
	var b strings.Builder
	log := NewLogger(&b, 4)
	env := Env{"API_PASSWORD": "hunter2-long", "nested": map[string]any{"x": 1}, "SMB_SHARES": []any{map[string]any{"SMB_PASSWORD": "share-pass"}}}
	for _, s := range env.SecretValues() {
		log.Secret(s)
	}
	log.Logf(1, "password hunter2-long and share-pass")
	if strings.Contains(b.String(), "hunter2") || strings.Contains(b.String(), "share-pass") {
		t.Fatalf("not scrubbed: %s", b.String())
	}
	if out := env.WithoutSecrets(); out["API_PASSWORD"] != nil || out["SMB_SHARES"] != nil || out["nested"] == nil {
		t.Fatalf("WithoutSecrets: %v", out)
	}
}
