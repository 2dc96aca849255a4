package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// passthrough holds every plist type; it must come back untouched.
func passthrough() processor.Env {
	return processor.Env{
		"an_int":         uint64(42),
		"a_negative":     int64(-7),
		"a_float":        3.25,
		"a_bool":         true,
		"a_date":         time.Date(2026, 11, 23, 16, 39, 3, 0, time.UTC),
		"some_data":      []byte{0, 1, 2, 255},
		"an_array":       []any{"a", uint64(1), []any{"nested"}, map[string]any{"k": "v"}},
		"a_dict":         map[string]any{"inner": map[string]any{"deep": false}, "list": []any{}},
		"unicode":        "Grüße, 日本語, emoji 📦",
		"PARENT_RECIPES": []any{"/a/b.recipe"},
	}
}

func TestXMLAndBinaryGiveTheSameResult(t *testing.T) {
	var outs []processor.Env
	pkg := writePkg(t, t.TempDir(), "Same-1.0.pkg", 1<<20, 1)
	for _, format := range []processor.Format{processor.FormatXML, processor.FormatBinary} {
		sim := newSim(t, jamfsim.Config{})
		env := baseEnv(t, sim, pkg)
		env["RECIPE_CACHE_DIR"] = "/nonexistent-cache-is-fine"
		for k, v := range passthrough() {
			env[k] = v
		}
		r := runEnv(t, sim, env, format)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", format, r.code, r.stderr)
		}
		magic := map[processor.Format]string{processor.FormatXML: "<?xml", processor.FormatBinary: "bplist00"}[format]
		if !bytes.HasPrefix(r.stdout, []byte(magic)) {
			t.Fatalf("%s input should give %s output, got %.20q", format, magic, r.stdout)
		}
		r.env["JSS_URL"] = "(differs: one simulator each)"
		outs = append(outs, r.env)
	}
	if !reflect.DeepEqual(outs[0], outs[1]) {
		t.Fatalf("XML and binary runs differ:\n%v\n%v", outs[0], outs[1])
	}
}

func TestEveryPlistTypeRoundTrips(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	env := baseEnv(t, sim, writePkg(t, t.TempDir(), "Types.pkg", 4096, 2))
	env["dry_run"] = true
	in := passthrough()
	in["control_chars"] = "bell\a and nul\x00 survive binary"
	for k, v := range in {
		env[k] = v
	}
	r := runEnv(t, sim, env, processor.FormatBinary)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for k, want := range in {
		if got := r.env[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", k, got, want)
		}
	}
	if len(r.stdout) == 0 || bytes.Count(r.stdout, []byte("bplist00")) != 1 {
		t.Fatalf("stdout must be exactly one plist")
	}
	// --format forces XML even for binary input.
	delete(env, "control_chars")
	data, _ := processor.EncodeEnv(env, processor.FormatBinary)
	if x := runBin(t, sim, data, "--format", "xml"); x.code != 0 || !bytes.HasPrefix(x.stdout, []byte("<?xml")) {
		t.Fatalf("--format xml: exit %d, %.20q", x.code, x.stdout)
	}
}

func TestKeyValueArguments(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "KV-2.0.pkg", 8192, 3)
	r := runBin(t, sim, []byte("stdin is not read in key=value mode"),
		"JSS_URL="+sim.URL, "API_USERNAME="+jamfsim.DefaultUser, "API_PASSWORD="+jamfsim.DefaultPassword,
		"pkg_path="+pkg, "NAME=KV", "pkg_display_name=%NAME% app", "verbose=2", "pkg_category=Testing", "jcds2_verify_timeout=30")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	env, format, err := processor.DecodeEnv(r.stdout)
	if err != nil || format != processor.FormatXML {
		t.Fatalf("k=v mode writes XML like execute_shell: %v %v", format, err)
	}
	if env["pkg_display_name"] != "KV app" || env["pkg_uploaded"] != true || env["pkg_name"] != "KV-2.0.pkg" {
		t.Fatalf("outputs: %v", env)
	}
	if _, ok := env["API_PASSWORD"]; ok {
		t.Fatal("the password must not be written back")
	}
	sum, ok := env[processor.SummaryKey].(map[string]any)
	if !ok {
		t.Fatalf("no summary: %v", env)
	}
	data := sum["data"].(map[string]any)
	for _, k := range sum["report_fields"].([]any) {
		if _, ok := data[k.(string)].(string); !ok {
			t.Fatalf("summary data[%s] must be a string: %#v", k, data)
		}
	}
	if data["packages_recalculated"] != "True" || data["name"] != "KV" || data["category"] != "Testing" {
		t.Fatalf("summary data: %#v", data)
	}
}

func TestVerboseAsAString(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	env := baseEnv(t, sim, writePkg(t, t.TempDir(), "V.pkg", 100, 4))
	env["dry_run"] = "True"
	env["verbose"] = "3"
	r := runEnv(t, sim, env, processor.FormatXML)
	if r.code != 0 || !strings.Contains(string(r.stderr), "JCDS2PackageUploader: GET /api/v1/jamf-pro-version -> 200") {
		t.Fatalf("verbose \"3\" should log requests: exit %d\n%s", r.code, r.stderr)
	}
	env["verbose"] = uint64(0)
	r = runEnv(t, sim, env, processor.FormatXML)
	if r.code != 0 || strings.Contains(string(r.stderr), "-> 200") {
		t.Fatalf("verbose 0 must not log requests:\n%s", r.stderr)
	}
}

// Bad input: exit 10, one exact line, and not one HTTP request.
func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	good := writePkg(t, dir, "Good.pkg", 100, 5)
	empty := filepath.Join(dir, "Empty.pkg")
	os.WriteFile(empty, nil, 0o644)
	os.Mkdir(filepath.Join(dir, "Folder"), 0o755)
	os.Symlink(filepath.Join(dir, "loop"), filepath.Join(dir, "loop"))
	cases := []struct {
		name  string
		edit  func(processor.Env)
		stdin string
		want  string
	}{
		{"no JSS_URL", func(e processor.Env) { delete(e, "JSS_URL") }, "", "ProcessorError: JCDS2PackageUploader requires JSS_URL: set it to your Jamf Pro URL (e.g. https://yourorg.jamfcloud.com) in the AutoPkg preferences or the recipe Input"},
		{"empty JSS_URL", func(e processor.Env) { e["JSS_URL"] = " " }, "", "ProcessorError: JSS_URL is empty: set it to your Jamf Pro URL, e.g. https://yourorg.jamfcloud.com"},
		{"ftp JSS_URL", func(e processor.Env) { e["JSS_URL"] = "ftp://jamf.example.com" }, "", `ProcessorError: JSS_URL "ftp://jamf.example.com" has scheme "ftp": use https://`},
		{"plain http", func(e processor.Env) { e["JSS_URL"] = "http://jamf.example.com" }, "", `ProcessorError: JSS_URL "http://jamf.example.com" uses plain http: use https, or set insecure_mode to True if you really mean it`},
		{"URL with password", func(e processor.Env) { e["JSS_URL"] = "https://u:p@jamf.example.com" }, "", "ProcessorError: JSS_URL must not contain a user name or password: give credentials as API_USERNAME/API_PASSWORD or CLIENT_ID/CLIENT_SECRET"},
		{"no credentials", func(e processor.Env) { delete(e, "CLIENT_ID"); delete(e, "CLIENT_SECRET") }, "", "ProcessorError: no Jamf Pro credentials: set CLIENT_ID and CLIENT_SECRET, or API_USERNAME and API_PASSWORD, or BEARER_TOKEN"},
		{"secret without id", func(e processor.Env) { delete(e, "CLIENT_ID") }, "", "ProcessorError: CLIENT_SECRET is set but CLIENT_ID is missing: give both, or API_USERNAME and API_PASSWORD"},
		{"user without password", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["API_USERNAME"] = "admin"
		}, "", "ProcessorError: API_USERNAME is set but API_PASSWORD is missing: give the account's password"},
		{"no pkg_path", func(e processor.Env) { delete(e, "pkg_path") }, "", "ProcessorError: pkg_path is missing: give the path to the package (a preceding step usually sets it)"},
		{"missing file", func(e processor.Env) { e["pkg_path"] = filepath.Join(dir, "Nope.pkg") }, "", `ProcessorError: pkg_path "` + filepath.Join(dir, "Nope.pkg") + `" does not exist: check the path, or the step that builds the package`},
		{"empty file", func(e processor.Env) { e["pkg_path"] = empty }, "", `ProcessorError: pkg_path "` + empty + `" is empty (0 bytes): rebuild the package`},
		{"directory", func(e processor.Env) { e["pkg_path"] = filepath.Join(dir, "Folder") }, "", `ProcessorError: pkg_path "` + filepath.Join(dir, "Folder") + `" is a directory, not a package: give a .pkg file or a .pkg bundle`},
		{"symlink loop", func(e processor.Env) { e["pkg_path"] = filepath.Join(dir, "loop") }, "", `ProcessorError: pkg_path "` + filepath.Join(dir, "loop") + `" cannot be read (stat ` + filepath.Join(dir, "loop") + `: too many levels of symbolic links): fix the path`},
		{"special file", func(e processor.Env) { e["pkg_path"] = "/dev/null" }, "", `ProcessorError: pkg_path "/dev/null" is a device, pipe or socket, not a file: give the package file`},
		{"slash in name", func(e processor.Env) { e["pkg_name"] = "a/b.pkg" }, "", `ProcessorError: pkg_name "a/b.pkg" contains a slash: give a file name, not a path`},
		{"dot-dot name", func(e processor.Env) { e["pkg_name"] = ".." }, "", `ProcessorError: pkg_name is "..": give a real file name`},
		{"hidden name", func(e processor.Env) { e["pkg_name"] = ".hidden.pkg" }, "", `ProcessorError: pkg_name ".hidden.pkg" starts with a dot: hidden files are not valid package names`},
		{"NUL in name", func(e processor.Env) { e["pkg_name"] = "a\x00b.pkg" }, "", `ProcessorError: pkg_name "a\x00b.pkg" contains a control character: rename the package`},
		{"long name", func(e processor.Env) { e["pkg_name"] = strings.Repeat("x", 252) + ".pkg" }, "", "ProcessorError: pkg_name is 256 bytes long: file names are at most 255 bytes"},
		{"bad boolean", func(e processor.Env) { e["replace_pkg"] = "maybe" }, "", `ProcessorError: replace_pkg is "maybe", which is not a boolean: use True or False`},
		{"max_tries 0", func(e processor.Env) { e["max_tries"] = "0" }, "", `ProcessorError: max_tries is "0": give a whole number from 1 to 10`},
		{"max_tries 11", func(e processor.Env) { e["max_tries"] = uint64(11) }, "", "ProcessorError: max_tries is 11: give a whole number from 1 to 10"},
		{"max_tries x", func(e processor.Env) { e["max_tries"] = "x" }, "", `ProcessorError: max_tries is "x": give a whole number from 1 to 10`},
		{"priority 50", func(e processor.Env) { e["pkg_priority"] = "50" }, "", `ProcessorError: pkg_priority is "50": give a whole number from 1 to 20`},
		{"both routes", func(e processor.Env) { e["jcds2_mode"] = true; e["pkg_api_mode"] = "yes" }, "", "ProcessorError: jcds2_mode and pkg_api_mode are both True: set at most one (or neither for automatic choice)"},
		{"plist not a dict", nil, `<?xml version="1.0"?><plist version="1.0"><array><string>x</string></array></plist>`, "ProcessorError: stdin plist top level is a list, not a dictionary: send the AutoPkg env as a plist dict"},
		{"junk stdin", nil, "this is not a plist", "ProcessorError: stdin is not an XML or binary plist: send the AutoPkg env as a plist dict (plutil -convert xml1 or binary1)"},
		{"truncated plist", nil, `<?xml version="1.0"?><plist version="1.0"><dict><key>JSS_URL</key><string>x`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim.ResetLog()
			var r result
			if c.edit != nil {
				env := baseEnv(t, sim, good)
				c.edit(env)
				r = runEnv(t, sim, env, processor.FormatBinary)
			} else {
				r = runBin(t, sim, []byte(c.stdin))
			}
			if r.code != 10 {
				t.Fatalf("exit %d, want 10\n%s", r.code, r.stderr)
			}
			if c.want != "" && r.lastLine() != c.want {
				t.Fatalf("got  %s\nwant %s", r.lastLine(), c.want)
			}
			if !strings.HasPrefix(r.lastLine(), "ProcessorError: ") || strings.Count(string(r.stderr), "\n") != 1 {
				t.Fatalf("want exactly one ProcessorError line, got %q", r.stderr)
			}
			if len(r.stdout) != 0 {
				t.Fatalf("nothing may reach stdout on failure, got %q", r.stdout)
			}
			if log := sim.Log(); len(log) != 0 {
				t.Fatalf("bad input must fail before any request, saw %v", log)
			}
		})
	}
	// AutoPkg's execute_shell refuses an argument without "=" so; plain
	// words are commands (an unknown one is a usage error, exit 2).
	r := runBin(t, sim, nil, "process", "not-a-key-value")
	if r.code != 10 || r.lastLine() != "ProcessorError: Illegal argument 'not-a-key-value'" {
		t.Fatalf("illegal argument: exit %d %q", r.code, r.stderr)
	}
}

func TestSecretsNeverReachOutput(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	for v := 0; v <= 4; v++ {
		for _, auth := range []string{"client", "user"} {
			pkg := writePkg(t, dir, "Secret.pkg", 6<<20, byte(v*2+len(auth)))
			env := baseEnv(t, sim, pkg)
			env["replace_pkg"] = "True"
			env["verbose"] = uint64(v)
			env["SMB_PASSWORD"] = "smb-password-5678"
			env["GITHUB_TOKEN"] = "ghp_secretsecretsecret"
			if auth == "user" {
				delete(env, "CLIENT_ID")
				delete(env, "CLIENT_SECRET")
				env["API_USERNAME"], env["API_PASSWORD"] = jamfsim.DefaultUser, jamfsim.DefaultPassword
			}
			r := runEnv(t, sim, env, processor.FormatXML)
			if r.code != 0 {
				t.Fatalf("verbose %d %s: exit %d %s", v, auth, r.code, r.stderr)
			}
			secrets := append(sim.IssuedSecrets(), jamfsim.DefaultPassword, jamfsim.DefaultClientSecret, "smb-password-5678", "ghp_secretsecretsecret")
			cacheFiles, _ := filepath.Glob(filepath.Join(env["RECIPE_CACHE_DIR"].(string), "*"))
			for _, s := range secrets {
				for what, data := range map[string][]byte{"stdout": r.stdout, "stderr": r.stderr} {
					if bytes.Contains(data, []byte(s)) {
						t.Fatalf("verbose %d %s: a secret reached %s", v, auth, what)
					}
				}
				for _, f := range cacheFiles {
					data, _ := os.ReadFile(f)
					if bytes.Contains(data, []byte(s)) {
						t.Fatalf("verbose %d %s: a secret reached %s", v, auth, f)
					}
				}
			}
		}
	}
}
