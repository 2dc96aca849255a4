package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

func dp(t *testing.T, env Env) (distpoint.Config, []string) {
	t.Helper()
	cfg, warnings, err := DistributionPoints(env)
	if err != nil {
		t.Fatalf("DistributionPoints: %v", err)
	}
	return cfg, warnings
}

func dpErr(t *testing.T, env Env, want string) {
	t.Helper()
	_, _, err := DistributionPoints(env)
	var ie *InputError
	if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &ie) {
		t.Fatalf("got %v, want an InputError containing %q", err, want)
	}
}

func inputs(shares []distpoint.Share) []string {
	var out []string
	for _, s := range shares {
		out = append(out, s.Input+"="+s.URL+"@"+s.Username)
	}
	return out
}

func TestNumberedSharesUpToTheFirstGap(t *testing.T) {
	env := Env{
		"SMB_URL": "smb://dp1/Share", "SMB_USERNAME": `CORP\svc`, "SMB_PASSWORD": "p1-secret",
		"SMB2_URL": "smb://dp2:1445/Share/sub", "SMB2_USERNAME": "svc2", "SMB2_PASSWORD": "p2-secret",
		"SMB3_URL": "file:///srv/jamf",
		"SMB5_URL": "smb://dp5/Share", "SMB5_USERNAME": "u", "SMB5_PASSWORD": "p",
		"SMB_SHARES": []any{map[string]any{"SMB_URL": "smb://x/y", "SMB_USERNAME": "u", "SMB_PASSWORD": "p"}},
	}
	cfg, warnings := dp(t, env)
	want := []string{"SMB_URL=smb://dp1/Share@CORP\\svc", "SMB2_URL=smb://dp2:1445/Share/sub@svc2", "SMB3_URL=file:///srv/jamf@"}
	if got := inputs(cfg.Shares); !slices.Equal(got, want) {
		t.Fatalf("shares %v, want %v", got, want)
	}
	if cfg.Shares[1].Password != "p2-secret" || cfg.CloudDP || cfg.S3 != nil {
		t.Fatalf("config: %#v", cfg)
	}
	joined := strings.Join(warnings, "\n")
	if !strings.Contains(joined, "SMB5_URL is ignored") || !strings.Contains(joined, "SMB_SHARES is ignored because SMB_URL is set") {
		t.Fatalf("warnings: %v", warnings)
	}
}

func TestHalfGivenShareCredentials(t *testing.T) {
	dpErr(t, Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "svc"},
		"SMB_URL defined but no credentials supplied: set SMB_USERNAME and SMB_PASSWORD to the share account's user name and password (password missing)")
	dpErr(t, Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "svc", "SMB_PASSWORD": "pw", "SMB2_URL": "smb://dp2/s", "SMB2_PASSWORD": "pw"},
		"SMB2_URL defined but no credentials supplied: set SMB2_USERNAME and SMB2_PASSWORD to the share account's user name and password (user name missing)")
	dpErr(t, Env{"SMB_SHARES": []any{
		map[string]any{"SMB_URL": "smb://a/s", "SMB_USERNAME": "u", "SMB_PASSWORD": "p"},
		map[string]any{"SMB_URL": "smb://b/s", "SMB_USERNAME": "u"},
	}}, "Incorrect SMB credentials supplied: SMB_SHARES item 2 lacks SMB_USERNAME or SMB_PASSWORD")
	dpErr(t, Env{"SMB_SHARES": []any{map[string]any{"SMB_USERNAME": "u", "SMB_PASSWORD": "p"}}}, "SMB_SHARES item 1 has no SMB_URL")
	dpErr(t, Env{"SMB_SHARES": "smb://a/s"}, "SMB_SHARES is \"smb://a/s\", not an array")
	dpErr(t, Env{"SMB_SHARES": []any{"smb://a/s"}}, "SMB_SHARES item 1 is \"smb://a/s\", not a dict")
	dpErr(t, Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "u", "SMB_PASSWORD": "p", "SMB2_URL": "afp://dp/s", "SMB2_USERNAME": "u", "SMB2_PASSWORD": "p"},
		`SMB2_URL "afp://dp/s" is not an smb:// or file:// URL`)
	dpErr(t, Env{"SMB_URL": "smb://svc:hunter22@dp/s", "SMB_USERNAME": "u", "SMB_PASSWORD": "p"}, "SMB_URL contains a user name or password")
}

func TestSharesFromSMBSharesWhenSMBURLIsUnset(t *testing.T) {
	env := Env{"SMB_URL": "", "SMB_SHARES": []any{
		map[string]any{"SMB_URL": "smb://a/s", "SMB_USERNAME": "u1", "SMB_PASSWORD": "p1"},
		map[string]any{"SMB_URL": "file:///Volumes/DP"},
	}}
	cfg, warnings := dp(t, env)
	want := []string{"SMB_SHARES item 1=smb://a/s@u1", "SMB_SHARES item 2=file:///Volumes/DP@"}
	if got := inputs(cfg.Shares); !slices.Equal(got, want) || len(warnings) != 0 {
		t.Fatalf("shares %v, warnings %v", got, warnings)
	}
}

// The reference's rule: with shares, the cloud DP only when CLOUD_DP is
// true; without, always.
func TestCloudDPDecision(t *testing.T) {
	share := Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "u", "SMB_PASSWORD": "p"}
	with := func(extra Env) Env {
		e := Env{}
		for k, v := range share {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		return e
	}
	cases := []struct {
		env  Env
		want bool
	}{
		{Env{}, true},
		{Env{"CLOUD_DP": "False"}, true},
		{Env{"CLOUD_DP": false, "SMB_URL": ""}, true},
		{with(nil), false},
		{with(Env{"CLOUD_DP": "False"}), false},
		{with(Env{"CLOUD_DP": "True"}), true},
		{with(Env{"CLOUD_DP": true}), true},
	}
	for _, c := range cases {
		if cfg, _ := dp(t, c.env); cfg.CloudDP != c.want {
			t.Errorf("%v: CloudDP %v, want %v", c.env, cfg.CloudDP, c.want)
		}
	}
	dpErr(t, with(Env{"CLOUD_DP": "maybe"}), "CLOUD_DP is \"maybe\", which is not a boolean")

	// After AutoPkg-style defaults (SMB_URL "", CLOUD_DP "False"): cloud.
	env := Env{}
	ApplyDefaults(env, NewLogger(&bytes.Buffer{}, 0))
	if cfg, _ := dp(t, env); !cfg.CloudDP || len(cfg.Shares) != 0 || cfg.S3 != nil {
		t.Fatalf("defaults: %#v", cfg)
	}
}

func TestAWSCDPMode(t *testing.T) {
	dpErr(t, Env{"aws_cdp_mode": "True"}, "aws_cdp_mode is True but S3_BUCKET_NAME is not set")
	dpErr(t, Env{"aws_cdp_mode": "True", "S3_BUCKET_NAME": "s3://my-bucket/"}, `S3_BUCKET_NAME "s3://my-bucket/" is not a bucket name`)
	cfg, warnings := dp(t, Env{"aws_cdp_mode": "True", "S3_BUCKET_NAME": " jamf-pkgs ", "insecure_mode": "True", "max_tries": "3", "jcds2_part_size_mb": "16"})
	if cfg.S3 == nil || *cfg.S3 != (distpoint.S3Target{Bucket: "jamf-pkgs", Insecure: true, MaxTries: 3, PartSize: 16 << 20}) || !cfg.CloudDP || len(warnings) != 0 {
		t.Fatalf("aws_cdp_mode: %#v %v", cfg.S3, warnings)
	}
	if cfg, _ := dp(t, Env{"aws_cdp_mode": "False", "S3_BUCKET_NAME": "jamf-pkgs"}); cfg.S3 != nil {
		t.Fatal("S3_BUCKET_NAME alone must not turn on the S3 upload")
	}
	// With a share and no CLOUD_DP the bucket is not used: say so.
	_, warnings = dp(t, Env{"aws_cdp_mode": "True", "S3_BUCKET_NAME": "jamf-pkgs", "SMB_URL": "file:///srv/dp"})
	if len(warnings) != 1 || !strings.Contains(warnings[0], "only when CLOUD_DP is True") {
		t.Fatalf("warnings: %v", warnings)
	}
}

// Share passwords, numbered or inside SMB_SHARES, are scrubbed and never
// written back; the share URLs stay readable.
func TestSharePasswordsAreSecrets(t *testing.T) {
	env := Env{
		// Loopback ports nothing listens on: refused at once, no lookup.
		"SMB_URL": "smb://127.0.0.1:9/Share", "SMB_USERNAME": "svc", "SMB_PASSWORD": "first-pass",
		"SMB3_PASSWORD": "third-pass",
		"SMB_SHARES":    []any{map[string]any{"SMB_URL": "smb://dp9/Share", "SMB_USERNAME": "svc9", "SMB_PASSWORD": "ninth-pass"}},
	}
	got := env.SecretValues()
	for _, want := range []string{"first-pass", "third-pass", "ninth-pass"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not a secret value: %v", want, got)
		}
	}
	if slices.Contains(got, "smb://dp9/Share") || slices.Contains(got, "svc9") {
		t.Errorf("SMB_SHARES' URL or user name would be scrubbed: %v", got)
	}
	out := env.WithoutSecrets()
	for _, k := range []string{"SMB_PASSWORD", "SMB3_PASSWORD", "SMB_SHARES"} {
		if _, ok := out[k]; ok {
			t.Errorf("%s would be written back", k)
		}
	}
	if out["SMB_URL"] == nil || out["SMB_USERNAME"] == nil {
		t.Errorf("non-secret share inputs were dropped: %v", out)
	}
}

// stubUploader stands in for the engine: it logs, as an engine would,
// the share it copies to, and looks at every destination first.
type stubUploader struct{ share distpoint.Share }

func (s stubUploader) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	log.Logf(0, "copying to %s as %s with %s", s.share.URL, s.share.Username, s.share.Password)
	for _, d := range req.Destinations {
		if _, err := d.Observe(ctx, req.PkgName); err != nil {
			return nil, fmt.Errorf("looking at %s: %w", d, err)
		}
	}
	return &jcds2.Result{PkgName: req.PkgName, PkgPath: req.PkgPath, Status: "unchanged"}, nil
}

// Through the whole processor contract: no share password on stderr or
// in the output plist.
func TestRunKeepsSharePasswordsOut(t *testing.T) {
	dir := t.TempDir()
	pkg := dir + "/P.pkg"
	if err := os.WriteFile(pkg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := Env{"JSS_URL": "https://x.jamfcloud.com", "CLIENT_ID": "id", "CLIENT_SECRET": "client-secret",
		"pkg_path": pkg, "verbose": uint64(3),
		// Loopback ports nothing listens on: refused at once, no lookup.
		"SMB_URL": "smb://127.0.0.1:9/Share", "SMB_USERNAME": "svc", "SMB_PASSWORD": "first-pass",
		"SMB_SHARES": []any{map[string]any{"SMB_URL": "smb://dp9/Share", "SMB_USERNAME": "svc9", "SMB_PASSWORD": "ninth-pass"}}}
	in, err := EncodeEnv(env, FormatXML)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := dp(t, env)
	var stdout, stderr bytes.Buffer
	// The shares do not exist: looking at them fails, naming them, with
	// every password kept out of what it prints.
	if code := Run(context.Background(), stubUploader{cfg.Shares[0]}, bytes.NewReader(in), &stdout, &stderr, Options{}); code != 10 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "file share smb://127.0.0.1:9/Share") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	for _, secret := range []string{"first-pass", "ninth-pass", "client-secret"} {
		if strings.Contains(stdout.String(), secret) || strings.Contains(stderr.String(), secret) {
			t.Errorf("%s leaked:\nstdout %s\nstderr %s", secret, stdout.String(), stderr.String())
		}
	}
}

// A share's credentials are refused with a line break, like every other
// credential (#22): a copied password often ends in one. The password is
// never shown; the user name is, escaped.
func TestShareCredentialsWithALineBreakAreRefused(t *testing.T) {
	const remove = ": remove it (credentials cannot hold line breaks"
	dpErr(t, Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "svc", "SMB_PASSWORD": "hunter22\n"}, "SMB_PASSWORD contains a line break"+remove)
	dpErr(t, Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "svc", "SMB_PASSWORD": "pw",
		"SMB2_URL": "smb://dp2/s", "SMB2_USERNAME": "svc\r", "SMB2_PASSWORD": "pw"}, `SMB2_USERNAME "svc\r" contains a line break`+remove)
	dpErr(t, Env{"SMB_SHARES": []any{map[string]any{"SMB_URL": "smb://a/s", "SMB_USERNAME": "u", "SMB_PASSWORD": "hunter22\x00"}}},
		"SMB_SHARES item 1 SMB_PASSWORD contains a NUL byte"+remove)
	_, _, err := DistributionPoints(Env{"SMB_URL": "smb://dp/s", "SMB_USERNAME": "svc", "SMB_PASSWORD": "hunter22\r\n"})
	if err == nil || strings.Contains(err.Error(), "hunter22") || strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("%q", err)
	}
}

// The destinations a run writes: shares always; the bucket only where
// the cloud distribution point is used, as the warning says.
func TestDestinationsFollowTheCloudRule(t *testing.T) {
	for _, c := range []struct {
		env       Env
		n         int
		elsewhere bool
	}{
		{Env{"SMB_URL": "file:///srv/dp"}, 1, true},
		{Env{"SMB_URL": "file:///srv/dp", "CLOUD_DP": true}, 1, false},
		{Env{"aws_cdp_mode": true, "S3_BUCKET_NAME": "jamf-pkgs"}, 1, true},
		{Env{"SMB_URL": "file:///srv/dp", "aws_cdp_mode": true, "S3_BUCKET_NAME": "jamf-pkgs"}, 1, true},
		{Env{"SMB_URL": "file:///srv/dp", "CLOUD_DP": true, "aws_cdp_mode": true, "S3_BUCKET_NAME": "jamf-pkgs"}, 2, true},
		{Env{}, 0, false},
	} {
		cfg, _ := dp(t, c.env)
		req := &jcds2.Request{}
		destinations(cfg, req, NewLogger(io.Discard, 0))
		if len(req.Destinations) != c.n || (req.Route == jcds2.RouteElsewhere) != c.elsewhere {
			t.Errorf("%v: %d destinations %v, route %v", c.env, len(req.Destinations), req.Destinations, req.Route)
		}
	}
}
