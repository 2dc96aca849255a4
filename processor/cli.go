package processor

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// Exit codes of the pkg command (processor mode keeps AutoPkg's 10).
const (
	ExitFailed = 1
	ExitUsage  = 2
)

const cliAbout = `Usage: jcds2-uploader pkg [PATH] [flags]

Uploads one package to Jamf Pro, or does nothing when Jamf Pro already has
its bytes. PATH (or --pkg PATH) is a flat .pkg, a .dmg or a bundle folder.

Settings come from an AutoPkg preferences file (--prefs), then the
environment (JSS_URL, CLIENT_ID, CLIENT_SECRET, API_USERNAME, API_PASSWORD,
BEARER_TOKEN), then these flags, then --key; on macOS a missing secret is
read from the login keychain. Secrets are never taken from the command line.
`

// FlagDoc is one flag as help and shell completion show it.
type FlagDoc struct {
	Name        string // without dashes
	Placeholder string // "" for a switch
	Help        string
	key         string // the input it sets
}

// PkgFlags are pkg's flags, in the order help lists them.
var PkgFlags = []FlagDoc{
	{"url", "URL", "Jamf Pro URL, or a bare jamfcloud tenant name (default $JSS_URL)", "JSS_URL"},
	{"clientid", "ID", "API client ID (default $CLIENT_ID; the secret from $CLIENT_SECRET)", "CLIENT_ID"},
	{"user", "NAME", "Jamf Pro user name (default $API_USERNAME; the password from $API_PASSWORD)", "API_USERNAME"},
	{"prefs", "FILE", "AutoPkg preferences plist to read settings and credentials from", ""},
	{"pkg", "PATH", "the package (or give PATH as the argument)", "pkg_path"},
	{"pkg-name", "NAME", "file name in Jamf Pro (default: PATH's name)", "pkg_name"},
	{"name", "NAME", "display name (default: the file name)", "pkg_display_name"},
	{"category", "NAME", "category, which must exist in Jamf Pro", "pkg_category"},
	{"info", "TEXT", "info text of the package record", "pkg_info"},
	{"notes", "TEXT", "notes of the package record", "pkg_notes"},
	{"priority", "N", "install priority, 1 to 20 (default 10)", "pkg_priority"},
	{"os-requirements", "LIST", `OS requirements, e.g. "14.x, 15.x"`, "os_requirements"},
	{"replace", "", "replace the file when Jamf Pro holds other bytes under its name", "replace_pkg"},
	{"replace-pkg-metadata", "", "rewrite the record's metadata even when the file is unchanged", "replace_pkg_metadata"},
	{"skip-metadata-upload", "", "never update an existing record (for roles without Update Packages)", "skip_metadata_upload"},
	{"md5", "", "record the hash as MD5 instead of SHA3-512", "md5"},
	{"api", "", "use the packages upload route only", "pkg_api_mode"},
	{"jcds2", "", "use the JCDS 2.0 route only", "jcds2_mode"},
	{"recalculate", "", "refresh the whole cloud distribution point inventory", "recalculate"},
	{"max-tries", "N", "attempts per request, 1 to 10 (default 5)", "max_tries"},
	{"concurrency", "N", "parallel S3 part uploads (default: by size)", "jcds2_concurrency"},
	{"s3-endpoint", "URL", "S3 endpoint override, for a simulator or tests", "jcds2_s3_endpoint"},
	{"insecure", "", "do not verify TLS certificates; allow plain http:// (prints a warning)", "insecure_mode"},
	{"key", "KEY=VALUE", "any other processor input, e.g. --key jcds2_verify_timeout=60 (repeatable; no secrets)", ""},
	{"dry-run", "", "look everything up, print what would change, change nothing", "dry_run"},
	{"json", "", "print the result, or the error, as a JSON object on stdout", ""},
	{"quiet", "", "print only errors and the result (no progress); also -q", ""},
	{"v", "", "more logging: -v, -vv, -vvv", ""},
	{"help", "", "this help; also -h", ""},
}

// secretFlags are jamf-upload.sh's spellings for secrets, refused by name.
var secretFlags = map[string]string{
	"pass": "API_PASSWORD", "password": "API_PASSWORD", "clientsecret": "CLIENT_SECRET", "client-secret": "CLIENT_SECRET",
	"token": "BEARER_TOKEN", "smb-pass": "SMB_PASSWORD", "smb_pass": "SMB_PASSWORD", "smb-password": "SMB_PASSWORD",
}

// envFromOS are the variables the pkg command reads.
var envFromOS = []string{"JSS_URL", "CLIENT_ID", "CLIENT_SECRET", "API_USERNAME", "API_PASSWORD", "BEARER_TOKEN"}

// UsageError is a command line that cannot be run as given (exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ListFlag is a repeatable string flag (--key, --recipes).
type ListFlag []string

func (k *ListFlag) String() string     { return strings.Join(*k, ",") }
func (k *ListFlag) Set(v string) error { *k = append(*k, v); return nil }

var verboseFlag = regexp.MustCompile(`^-{1,2}v+$`)

// SplitVerbose takes pkg's spellings of verbosity (-v, -vv, --vvv ...)
// out of args, which the flag package cannot parse, and counts them.
func SplitVerbose(args []string) (verbose int, rest []string) {
	for _, a := range args {
		if verboseFlag.MatchString(a) {
			verbose += strings.Count(a, "v")
			continue
		}
		rest = append(rest, a)
	}
	return verbose, rest
}

// PkgHelp is pkg's help: flags spelled as typed, with placeholders.
func PkgHelp() string {
	var b strings.Builder
	b.WriteString(cliAbout + "\nFlags:\n" + flagList(PkgFlags))
	b.WriteString(`
Exit status: 0 uploaded, or nothing to do; 1 the run failed (nothing is
left half done); 2 usage error; 130 interrupted.

Examples:
  jcds2-uploader pkg ~/Downloads/Firefox-120.pkg --category Browsers
  jcds2-uploader pkg Firefox-120.pkg --dry-run
  jcds2-uploader pkg Firefox-120.pkg --json | jq .pkg_id
`)
	return b.String()
}

// cliOptions is a parsed pkg command line.
type cliOptions struct {
	given         map[string]string
	prefs         string
	keys          ListFlag
	verbose       int
	asJSON, quiet bool
	help          bool
}

func parsePkgArgs(args []string) (*cliOptions, error) {
	o := &cliOptions{given: map[string]string{}}
	o.verbose, args = SplitVerbose(args)
	fs := flag.NewFlagSet("pkg", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	str := map[string]*string{}
	boolean := map[string]*bool{}
	for _, f := range PkgFlags {
		switch {
		case f.key == "" || f.Name == "v":
		case f.Placeholder != "":
			str[f.key] = fs.String(f.Name, "", f.Help)
		default:
			boolean[f.key] = fs.Bool(f.Name, false, f.Help)
		}
	}
	fs.StringVar(str["pkg_path"], "pkg-path", "", "same as --pkg") // jamf-upload.sh's spelling
	fs.StringVar(&o.prefs, "prefs", "", "")
	fs.Var(&o.keys, "key", "")
	fs.BoolVar(&o.asJSON, "json", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				o.help = true
				return o, nil
			}
			names := []string{"pkg-path", "q"}
			for _, f := range PkgFlags {
				names = append(names, f.Name)
			}
			return nil, flagError(err, names)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional, args = append(positional, args[0]), args[1:]
	}
	for k, v := range str {
		if *v != "" {
			o.given[k] = *v
		}
	}
	for k, v := range boolean {
		if *v {
			o.given[k] = "True"
		}
	}
	switch {
	case len(positional) > 1:
		return nil, &UsageError{fmt.Sprintf("pkg takes one package, got %d arguments (%s ...): quote a path with spaces", len(positional), positional[0])}
	case len(positional) == 1 && o.given["pkg_path"] != "":
		return nil, &UsageError{"give the package once: as PATH or with --pkg, not both"}
	case len(positional) == 1:
		o.given["pkg_path"] = positional[0]
	}
	return o, nil
}

var undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)

// flagError renders the flag package's error in our spelling, with a
// suggestion for a typo (among names) and a refusal for a secret.
func flagError(err error, names []string) error {
	msg := err.Error()
	m := undefinedFlag.FindStringSubmatch(msg)
	if m == nil {
		return &UsageError{regexp.MustCompile(`(^|\s)-([a-z])`).ReplaceAllString(msg, "$1--$2")}
	}
	name := m[1]
	if key, ok := secretFlags[name]; ok {
		return &UsageError{fmt.Sprintf("--%s is refused: secrets never come from the command line (ps and the shell history show it); export %s, put it in the --prefs file, or on macOS in the login keychain", name, key)}
	}
	s := fmt.Sprintf("unknown flag --%s", name)
	if best := Suggest(name, names); best != "" {
		s += fmt.Sprintf("\nDid you mean --%s?", best)
	}
	return &UsageError{s}
}

// RunCLI is the pkg command. It builds an env from prefs, environment and
// flags, and runs the same processing as processor mode.
func RunCLI(ctx context.Context, up jcds2.Uploader, args []string, stdout, stderr io.Writer) int {
	o, err := parsePkgArgs(args)
	if err == nil && o.help {
		fmt.Fprint(stdout, PkgHelp())
		return 0
	}
	// A command line that does not parse still asked for JSON if it
	// says --json anywhere.
	asJSON := o != nil && o.asJSON || o == nil && slices.Contains(args, "--json")
	fail := func(log *Logger, err error, code int) int {
		msg := err.Error()
		if log != nil {
			msg = log.Redact(msg)
		}
		if asJSON {
			writeJSON(stdout, map[string]any{"error": errorView(err, msg)})
		}
		fmt.Fprintf(stderr, "jcds2-uploader pkg: %s\n", msg)
		if code == ExitUsage {
			fmt.Fprintln(stderr, "Usage: jcds2-uploader pkg [PATH] [flags]\nRun 'jcds2-uploader pkg --help' for the flags.")
		}
		return code
	}
	if err != nil {
		return fail(nil, err, ExitUsage)
	}
	env, err := CLIEnv(o.prefs, o.given, o.keys)
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return fail(nil, err, ExitUsage)
		}
		return fail(nil, err, ExitFailed)
	}
	if _, ok := env["pkg_path"]; !ok {
		return fail(nil, &UsageError{"no package given: jcds2-uploader pkg PATH (e.g. ~/Downloads/Firefox.pkg)"}, ExitUsage)
	}
	if _, ok := env["JSS_URL"]; !ok {
		return fail(nil, &UsageError{"no Jamf Pro URL: export JSS_URL=https://yourorg.jamfcloud.com, or give --url"}, ExitUsage)
	}
	var logTo io.Writer = stderr
	if o.quiet {
		logTo = io.Discard
	}
	log := NewLogger(logTo, o.verbose)
	env["verbose"] = uint64(o.verbose)
	if _, set := env["show_upload_progress"]; !set && !o.quiet {
		// People see progress at the default verbosity: a bar on a
		// terminal, a line every few seconds otherwise.
		env["show_upload_progress"] = "True"
	}
	keep := &resultKeeper{Uploader: up}
	out, err := process(ctx, keep, env, log, cliNames)
	if err != nil {
		return fail(log, cliError(err), ExitFailed)
	}
	if o.asJSON {
		view := map[string]any{}
		for _, o := range Outputs {
			if v, ok := out[o.Name]; ok {
				view[o.Name] = v
			}
		}
		if keep.res != nil {
			outcomeView(view, keep.res)
			view["timings"] = timingsView(keep.res)
		}
		writeJSON(stdout, view)
		return 0
	}
	fmt.Fprintf(stdout, "%s: %v (package id %v)\n", out["pkg_name"], out["pkg_upload_status"], out["pkg_id"])
	return 0
}

// readPrefs reads an AutoPkg preferences plist within the same limits as
// the env on stdin.
func readPrefs(path string) (Env, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--prefs %s cannot be read (%v): give an AutoPkg preferences plist", path, err)
	}
	defer f.Close()
	source := "--prefs " + path
	data, err := readLimited(f, MaxInputBytes, source)
	if err != nil {
		return nil, err
	}
	p, _, err := decodeEnv(data, source)
	return p, err
}
