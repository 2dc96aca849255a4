package processor

import (
	"context"
	"flag"
	"fmt"
	"io"
)

const pruneUsage = `Usage: jcds2-uploader prune --match PREFIX [flags]
       jcds2-uploader prune --unused [--match PREFIX] [flags]

Deletes old versions of a title's packages: keeps the newest --keep by
package ID (or --order version), and never deletes a package that a
policy, a patch title or a PreStage installs. The plan is printed before
anything is deleted; --dry-run stops there. Credentials come from the
environment (CLIENT_ID/CLIENT_SECRET or API_USERNAME/API_PASSWORD) or
--prefs. JCDS2PackageCleaner in an AutoPkg recipe does the same.

`

// RunPrune is `jcds2-uploader prune`: the cleaner for people, with flags.
func RunPrune(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	verbose, rest := SplitVerbose(args)
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, pruneUsage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "  -v, -vv, ...\n    \tmore logging")
	}
	str := map[string]*string{}
	for _, f := range []struct{ flag, key, help string }{
		{"url", "JSS_URL", "Jamf Pro URL (or a bare jamfcloud tenant name)"},
		{"user", "API_USERNAME", "Jamf Pro user name (password from API_PASSWORD)"},
		{"clientid", "CLIENT_ID", "API client ID (secret from CLIENT_SECRET)"},
		{"match", "pkg_name_match", "the start of the package names to clean (pkg_name_match)"},
		{"keep", "versions_to_keep", "how many of the newest to keep (default 5)"},
		{"min-name-length", "minimum_name_length", "failsafe: --match must be this long (default 3)"},
		{"max-delete", "maximum_allowed_packages_to_delete", "failsafe: stop if the plan deletes more (default 20)"},
		{"order", "prune_order", "id (default) or version"},
		{"output-dir", "output_dir", "write the plan as CSV into this folder"},
		{"max-tries", "max_tries", "attempts per request, 1 to 10"},
	} {
		str[f.key] = fs.String(f.flag, "", f.help)
	}
	boolFlags := map[string]*bool{}
	for _, f := range []struct{ flag, key, help string }{
		{"dry-run", "dry_run", "print the plan, delete nothing"},
		{"unused", "unused", "delete every matching package nothing installs"},
		{"insecure", "insecure_mode", "do not verify TLS certificates"},
	} {
		boolFlags[f.key] = fs.Bool(f.flag, false, f.help)
	}
	prefs := fs.String("prefs", "", "AutoPkg preferences plist to read credentials and keys from")
	var keys ListFlag
	fs.Var(&keys, "key", "extra input as KEY=VALUE (repeatable)")
	if err := fs.Parse(rest); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return ExitUsage
	}
	log := NewLogger(stderr, verbose)
	log.SetName("prune")
	// The CLI's conventions (cli.go): "jcds2-uploader prune: ..." and
	// exit 1 for a failed run, 2 for a wrong command line.
	fail := func(msg string, code int) int { return commandFailed(stderr, log, "prune", msg, code) }
	if fs.NArg() > 0 {
		return fail(fmt.Sprintf("unexpected argument %q: prune takes flags only", fs.Arg(0)), ExitUsage)
	}
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
		return fail(err.Error(), ExitUsage)
	}
	if _, ok := env["pkg_name_match"]; !ok && env["unused"] == nil {
		return fail("--match is required (the start of the package names to clean, e.g. --match Firefox-), or --unused", ExitUsage)
	}
	out, err := Clean(ctx, env, log)
	if err != nil {
		return fail(cliNames.privilegeHint(err).Error(), ExitFailed)
	}
	if s, ok := out[CleanerSummaryKey].(map[string]any); ok {
		d := s["data"].(map[string]any)
		fmt.Fprintf(stdout, "matched %s, kept %s newest and %s in use, deleted %s\n", d["found_matches"], d["versions_to_keep"], d["kept_in_use"], d["deleted"])
	}
	return 0
}
