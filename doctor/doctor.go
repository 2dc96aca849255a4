// Package doctor is `jcds2-uploader doctor`: for the first setup, it
// checks with read-only calls everything a run needs (URL and TLS,
// credentials, version, distribution point, privileges, route, file
// shares, the categories recipes name, the clock) and prints one line
// each with OK, WARN or FAIL. It never writes to Jamf Pro: the only
// non-GET requests are minting the token and invalidating it.
package doctor

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

const usage = `Usage: jcds2-uploader doctor [flags]

Checks, without writing anything, whether a run would work: the URL and
TLS, the credentials and token lifetime, the Jamf Pro version, the cloud
distribution point, each privilege a run needs, the route a run would take,
the deprecated JCDS endpoints, the file share distribution points, the
categories recipes name (--recipes) and the clock. Credentials come from the
same places as for "pkg": the environment (JSS_URL, CLIENT_ID, CLIENT_SECRET,
API_USERNAME, API_PASSWORD, BEARER_TOKEN) or an AutoPkg prefs plist
(--prefs). Precedence: prefs < environment < flags < --key.
Exit 0 when a run would work, 1 when not, 2 for bad flags.
`

// Run is the doctor command; it returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	verbose, rest := processor.SplitVerbose(args)
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	// The connection flags of pkg, mapped onto the same inputs.
	url := fs.String("url", "", "Jamf Pro `URL` (or a bare jamfcloud tenant name)")
	user := fs.String("user", "", "Jamf Pro user `NAME` (password from API_PASSWORD)")
	clientID := fs.String("clientid", "", "API client `ID` (secret from CLIENT_SECRET)")
	insecure := fs.Bool("insecure", false, "do not verify TLS certificates (reported as a warning)")
	prefs := fs.String("prefs", "", "read credentials and inputs from this AutoPkg preferences `file` (a plist)")
	asJSON := fs.Bool("json", false, "print the report as JSON: {url, checks: [{check, status, detail}], verdict}")
	var keys, recipes processor.ListFlag
	fs.Var(&keys, "key", "extra input as `KEY=VALUE` (repeatable; no secrets), e.g. --key pkg_api_mode=True")
	fs.Var(&recipes, "recipes", "scan this recipe `folder` for the categories recipes name (repeatable)")
	verboseDoc := []processor.FlagDoc{{Name: "v", Help: "log more to stderr: -v, -vv, -vvv (every request)"}}
	if code, stop := processor.ParseCommandFlags(fs, rest, usage, verboseDoc, stdout, stderr); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jcds2-uploader doctor: unexpected argument %q: doctor takes flags only (see jcds2-uploader doctor --help)\n", fs.Arg(0))
		return 2
	}
	flags := map[string]string{"JSS_URL": *url, "API_USERNAME": *user, "CLIENT_ID": *clientID}
	if *insecure {
		flags["insecure_mode"] = "True"
	}
	log := processor.NewLogger(stderr, verbose)
	d := &doctor{log: log, recipeDirs: recipes, rep: &Report{}}
	env, err := processor.CLIEnv(*prefs, flags, keys)
	if err != nil {
		d.rep.add(Fail, "inputs", "%v", err)
	} else {
		processor.FillFromKeychain(ctx, env, log) // on macOS, as a run does
		env["verbose"] = uint64(verbose)
		d.env = env
		d.run(ctx)
	}
	route, label := "", ""
	if d.route != jcds2.RouteAuto {
		route, label = d.route.String(), shortRouteName[d.route]
	}
	d.rep.finish(route, label)
	d.rep.redact(log.Redact)
	write := d.rep.writeText
	if *asJSON {
		write = d.rep.writeJSON
	}
	if err := write(stdout); err != nil {
		fmt.Fprintf(stderr, "jcds2-uploader doctor: writing the report: %v\n", err)
		return 1
	}
	if !d.rep.Verdict.OK {
		return 1
	}
	return 0
}
