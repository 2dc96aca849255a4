package processor

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

const cliUsage = `Usage: jcds2-uploader pkg --pkg PATH [flags]

Uploads one package to Jamf Pro, like "jamf-upload.sh pkg". Credentials come
from the environment (JSS_URL, CLIENT_ID, CLIENT_SECRET, API_USERNAME,
API_PASSWORD, BEARER_TOKEN) or an AutoPkg prefs plist (--prefs); secrets are
never needed on the command line. Precedence: prefs < environment < flags < --key.

Flags:
`

// envFromOS are the variables the pkg command reads.
var envFromOS = []string{"JSS_URL", "CLIENT_ID", "CLIENT_SECRET", "API_USERNAME", "API_PASSWORD", "BEARER_TOKEN"}

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

// RunCLI is the pkg command. It builds an env from prefs, environment and
// flags, and runs the same processing as processor mode.
func RunCLI(ctx context.Context, up jcds2.Uploader, args []string, stdout, stderr io.Writer) int {
	verbose, rest := SplitVerbose(args)
	fs := flag.NewFlagSet("pkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, cliUsage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "  -v, -vv, ...\n    \tmore logging")
	}
	str := map[string]*string{}
	for _, f := range []struct{ flag, key, help string }{
		{"url", "JSS_URL", "Jamf Pro URL (or a bare jamfcloud tenant name)"},
		{"user", "API_USERNAME", "Jamf Pro user name (password from API_PASSWORD)"},
		{"clientid", "CLIENT_ID", "API client ID (secret from CLIENT_SECRET)"},
		{"pkg", "pkg_path", "path to the package (required)"},
		{"pkg-name", "pkg_name", "file name in Jamf Pro (default: the file's name)"},
		{"name", "pkg_display_name", "display name (default: the file name)"},
		{"category", "pkg_category", "category name (must exist)"},
		{"info", "pkg_info", "info text"},
		{"notes", "pkg_notes", "notes text"},
		{"priority", "pkg_priority", "priority, 1 to 20"},
		{"os-requirements", "os_requirements", "OS requirements"},
		{"s3-endpoint", "jcds2_s3_endpoint", "S3 endpoint override (testing)"},
		{"concurrency", "jcds2_concurrency", "parallel S3 part uploads"},
		{"max-tries", "max_tries", "attempts per request, 1 to 10"},
	} {
		str[f.key] = fs.String(f.flag, "", f.help)
	}
	boolFlags := map[string]*bool{}
	for _, f := range []struct{ flag, key, help string }{
		{"replace", "replace_pkg", "replace a file whose bytes differ"},
		{"replace-pkg-metadata", "replace_pkg_metadata", "rewrite the record's metadata"},
		{"skip-metadata-upload", "skip_metadata_upload", "do not update an existing record"},
		{"md5", "md5", "record the hash as MD5"},
		{"api", "pkg_api_mode", "use the packages upload route"},
		{"jcds2", "jcds2_mode", "prefer the JCDS 2.0 route (the packages route where JCDS refuses)"},
		{"recalculate", "recalculate", "refresh the whole distribution point inventory"},
		{"dry-run", "dry_run", "look up and print the plan, change nothing"},
		{"insecure", "insecure_mode", "do not verify TLS certificates"},
	} {
		boolFlags[f.key] = fs.Bool(f.flag, false, f.help)
	}
	prefs := fs.String("prefs", "", "AutoPkg preferences plist to read credentials and keys from")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var keys ListFlag
	fs.Var(&keys, "key", "extra input as KEY=VALUE (repeatable)")
	// Aliases the reference CLI accepts.
	fs.StringVar(str["pkg_path"], "pkg-path", "", "same as --pkg")
	if err := fs.Parse(rest); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ProcessorError: unexpected argument %q: pkg takes flags only (see jcds2-uploader pkg --help)\n", fs.Arg(0))
		return ExitProcessorError
	}
	log := NewLogger(stderr, verbose)
	given := map[string]string{}
	for k, v := range str {
		given[k] = *v
	}
	for k, v := range boolFlags {
		if *v {
			given[k] = "True"
		}
	}
	env, err := CLIEnv(*prefs, given, keys)
	if err != nil {
		log.Error(err.Error())
		return ExitProcessorError
	}
	env["verbose"] = uint64(verbose)
	if _, ok := env["pkg_path"]; !ok {
		log.Error("--pkg is missing: give the path to the package, e.g. --pkg ~/Downloads/Firefox.pkg")
		return ExitProcessorError
	}
	keep := &resultKeeper{Uploader: up}
	out, err := process(ctx, keep, env, log, cliNames)
	if err != nil {
		log.Error(err.Error())
		return ExitProcessorError
	}
	res := out["pkg_upload_status"]
	if *asJSON {
		view := map[string]any{}
		for _, o := range Outputs {
			if v, ok := out[o.Name]; ok {
				view[o.Name] = v
			}
		}
		if keep.res != nil {
			view["timings"] = timingsView(keep.res)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(view)
		return 0
	}
	fmt.Fprintf(stdout, "%s: %v (package id %v)\n", out["pkg_name"], res, out["pkg_id"])
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
