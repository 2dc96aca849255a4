package processor

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/lifecycle"
)

// The JCDS2PackageCleaner processor: JamfPackageCleaner's inputs, defaults
// and summary, with JamfUnusedPackageCleaner's job as the unused input,
// carried out by lifecycle (which never deletes what something installs).

// CleanerName is the second processor the shim offers.
const CleanerName = "JCDS2PackageCleaner"

// CleanerSummaryKey is JamfPackageCleaner's summary key.
const CleanerSummaryKey = "jamfpackagecleaner_summary_result"

// CleanerDescription is shown by `autopkg processor-info`.
const CleanerDescription = "Deletes old versions of a title's packages from Jamf Pro (keeping the newest " +
	"versions_to_keep by package ID), never one that a policy, a patch title or a PreStage installs; " +
	"the record, its JCDS file and its copies on the file shares. The plan is printed first."

// CleanerInputs are the cleaner's inputs beside the connection ones
// (JSS_URL, credentials, the file-share and S3 inputs) it shares with
// the uploader.
var CleanerInputs = []Input{
	{Name: "pkg_name_match", Description: "The start of the package names (packageName) to clean; default: NAME followed by '-'."},
	{Name: "versions_to_keep", Default: "5", Kind: "int", Description: "How many of the newest matching packages to keep. Packages something installs are kept as well."},
	{Name: "minimum_name_length", Default: "3", Kind: "int", Description: "Failsafe: pkg_name_match must be at least this long."},
	{Name: "maximum_allowed_packages_to_delete", Default: "20", Kind: "int", Description: "Failsafe: stop, deleting nothing, when the plan deletes more."},
	{Name: "dry_run", Default: "False", Kind: "bool", Description: "Print the plan, delete nothing."},
	{Name: "prune_order", Default: "id", Ours: true, Description: "'id' (newest = highest package ID, as JamfPackageCleaner) or 'version' (the version after pkg_name_match)."},
	{Name: "unused", Default: "False", Kind: "bool", Ours: true, Description: "JamfUnusedPackageCleaner's job: delete every matching package nothing installs (versions_to_keep is not used; pkg_name_match may be empty: every package)."},
	{Name: "output_dir", Default: "", Description: "Write the plan as CSV (jcds2-prune-plan.csv) into this folder."},
}

// RunClean is the cleaner in processor mode: env in, env out.
func RunClean(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	early := NewLogger(stderr, 0)
	early.SetName(CleanerName)
	env, format, err := readEnv(stdin, args, stderr)
	if err != nil {
		early.Error(err.Error())
		return ExitProcessorError
	}
	log := NewLogger(stderr, Verbose(env))
	log.SetName(CleanerName)
	out, err := Clean(ctx, env, log)
	if err != nil {
		log.Error(processorNames.privilegeHint(err).Error())
		return ExitProcessorError
	}
	data, err := EncodeEnv(out.WithoutSecrets(), format)
	if err == nil {
		_, err = stdout.Write(data)
	}
	if err != nil {
		log.Error(fmt.Sprintf("writing the output plist: %v", err))
		return ExitProcessorError
	}
	return 0
}

func readEnv(stdin io.Reader, args []string, stderr io.Writer) (Env, Format, error) {
	if len(args) > 0 {
		env, err := ParseKeyValues(args, func(msg string) { fmt.Fprintln(stderr, msg) })
		return env, FormatXML, err
	}
	data, err := readLimited(stdin, MaxInputBytes, "stdin")
	if err != nil {
		return nil, 0, err
	}
	return DecodeEnv(data)
}

// lifecycleMemoryLimit is the soft memory limit of prune and audit: the
// records, the usage and the report are a few MB even at 5,000 packages;
// without a limit the collector lets garbage from thousands of answers
// double the heap again and again. GOMEMLIMIT overrides it.
const lifecycleMemoryLimit = 24 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(lifecycleMemoryLimit)
	}
}

// Clean prunes as the env says and returns it with the summary set.
func Clean(ctx context.Context, env Env, log *Logger) (Env, error) {
	limitMemory()
	for _, s := range env.SecretValues() {
		log.Secret(s)
	}
	delete(env, CleanerSummaryKey)
	o, dry, outDir, err := cleanerOptions(env)
	if err != nil {
		return nil, err
	}
	c, req, err := cleanerClient(env, log)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	dps, warnings, err := DistributionPoints(env)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Logf(0, "%s", w)
	}
	p := &lifecycle.Pruner{Client: c, Log: log, DryRun: dry, Progress: usageProgress(log)}
	// The destinations an upload writes, deleted from by name (the
	// plan's); the S3 point whenever the inputs name it, as any copy a
	// past upload left there belongs to the package being deleted.
	for _, sh := range dps.Shares {
		log.Secret(sh.Password)
		p.Dests = append(p.Dests, &distpoint.ShareDest{Share: sh, Log: log})
	}
	if dps.S3 != nil {
		t := *dps.S3
		t.Insecure, t.MaxTries = req.Insecure, req.MaxTries
		p.Dests = append(p.Dests, &distpoint.S3Dest{Target: t, Log: log})
	}
	res, err := p.Prune(ctx, o)
	if res != nil && res.Plan != nil && outDir != "" {
		if werr := writePlanCSV(filepath.Join(outDir, "jcds2-prune-plan.csv"), res); werr != nil {
			return nil, werr
		}
	}
	var stop *lifecycle.StopError
	if errors.As(err, &stop) {
		return nil, inputErr("%s: change %s if this is what you want", stop.Msg, stop.Input)
	}
	if err != nil {
		return nil, err
	}
	if dry {
		log.Logf(0, "dry_run is set: nothing was deleted")
		return env, nil
	}
	keep := o.Keep
	if o.Unused { // unused mode keeps nothing for its age
		keep = 0
	}
	env[CleanerSummaryKey] = map[string]any{
		"summary_text":  "The following package cleaning was performed in Jamf Pro:",
		"report_fields": []any{"pkg_name_match", "found_matches", "versions_to_keep", "kept_in_use", "deleted"},
		"data": map[string]any{
			"pkg_name_match":   o.Match,
			"found_matches":    fmt.Sprint(len(res.Plan.Matched)),
			"versions_to_keep": fmt.Sprint(keep),
			"kept_in_use":      fmt.Sprint(len(res.Plan.InUse)),
			"deleted":          fmt.Sprint(len(res.Deleted)),
		},
	}
	return env, nil
}

// cleanerOptions reads JamfPackageCleaner's inputs, with its defaults.
func cleanerOptions(env Env) (o lifecycle.Options, dry bool, outDir string, err error) {
	o = lifecycle.Defaults
	ints := []struct {
		key string
		dst *int
	}{{"versions_to_keep", &o.Keep}, {"minimum_name_length", &o.MinNameLength}, {"maximum_allowed_packages_to_delete", &o.MaxDelete}}
	for _, in := range ints {
		if v, ok := env[in.key]; ok && v != nil && v != "" {
			if *in.dst, err = Int(env, in.key, 0, 1<<20); err != nil {
				return o, false, "", err
			}
		}
	}
	if dry, err = Bool(env, "dry_run"); err != nil {
		return
	}
	if o.Unused, err = Bool(env, "unused"); err != nil {
		return
	}
	order, _ := String(env, "prune_order")
	switch strings.ToLower(order) {
	case "", "id":
	case "version":
		o.ByVersion = true
	default:
		return o, false, "", inputErr("prune_order is %q: use id or version", order)
	}
	if outDir, err = String(env, "output_dir"); err != nil {
		return
	}
	if o.Match, err = String(env, "pkg_name_match"); err != nil {
		return
	}
	if o.Match == "" && !o.Unused {
		name, _ := String(env, "NAME")
		if name == "" {
			return o, false, "", inputErr("pkg_name_match is not set and there is no NAME to make %%NAME%%- from: set pkg_name_match (e.g. \"Firefox-\")")
		}
		o.Match = name + "-"
	}
	return o, dry, outDir, nil
}

// cleanerClient validates the connection inputs with the uploader's own
// code (a stand-in package, as doctor does) and makes a client.
func cleanerClient(env Env, log *Logger) (*jamf.Client, *requestView, error) {
	probe := make(Env, len(env))
	for k, v := range env {
		probe[k] = v
	}
	if _, ok := probe["JSS_URL"]; !ok {
		return nil, nil, inputErr("%s requires JSS_URL: %s", CleanerName, requiredHint("JSS_URL"))
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("finding this program's own path: %w", err)
	}
	probe["pkg_path"] = self
	delete(probe, "pkg_name")
	// The uploader's defaults (max_tries 5, the timeouts) on the probe
	// only: the env handed back keeps what the recipe gave.
	ApplyDefaults(probe, NewLogger(io.Discard, 0))
	req, warnings, err := BuildRequest(probe)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range warnings {
		log.Logf(0, "%s", w)
	}
	if a := req.Auth; a.Username != "" && a.Password != "" {
		log.Secret(a.Username + ":" + a.Password)
	}
	if a := req.Auth; a.ClientID != "" && a.ClientSecret != "" {
		log.Secret(a.ClientID + ":" + a.ClientSecret)
	}
	c := jamf.New(jamf.Options{URL: req.URL, Insecure: req.Insecure, Auth: req.Auth, MaxTries: req.MaxTries,
		RetryFloor: req.RetryFloor, Timeout: req.Timeout, Log: log})
	return c, &requestView{Insecure: req.Insecure, MaxTries: req.MaxTries}, nil
}

type requestView struct {
	Insecure bool
	MaxTries int
}

// usageProgress prints how many policies have been read, every few
// seconds and at the end (reading thousands takes a while).
func usageProgress(log *Logger) func(done, total int) {
	var mu sync.Mutex
	var last time.Time
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done < total && time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		log.Logf(0, "Read %d of %d policies", done, total)
	}
}

// privilegeHint says, for a 403 from a lifecycle read or delete, where
// the missing privilege (Jamf's name, already in the error) is added.
func (n Names) privilegeHint(err error) error {
	if _, ok := jamf.MissingPrivilege(err); ok {
		return fmt.Errorf("%w: add it to the API role of the client in %s (or to the privileges of the user in %s)", err, n.Client, n.Password)
	}
	return err
}

// writePlanCSV writes every matching package and what the plan does.
func writePlanCSV(path string, res *lifecycle.Outcome) error {
	type row struct{ id, name, file, action, reason string }
	var rows []row
	add := func(action string, ds []lifecycle.Decision) {
		for _, d := range ds {
			rows = append(rows, row{d.Package.ID, d.Package.PackageName, d.Package.FileName, action, d.Reason})
		}
	}
	add("keep", res.Plan.Keep)
	add("keep (in use)", res.Plan.InUse)
	deleted := map[string]bool{}
	for _, d := range res.Deleted {
		deleted[d.Package.ID] = true
	}
	for _, d := range res.Plan.Delete {
		action := "delete"
		if deleted[d.Package.ID] {
			action = "deleted"
		}
		rows = append(rows, row{d.Package.ID, d.Package.PackageName, d.Package.FileName, action, d.Reason})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].action < rows[j].action })
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the plan CSV: %w: check output_dir", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"id", "packageName", "fileName", "action", "reason"})
	for _, r := range rows {
		w.Write([]string{r.id, r.name, r.file, r.action, r.reason})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// cleanerConnection are the uploader's inputs the cleaner reads too:
// the server, the credentials, and where else the files are.
var cleanerConnection = []string{"JSS_URL", "API_USERNAME", "API_PASSWORD", "CLIENT_ID", "CLIENT_SECRET", "BEARER_TOKEN",
	"SMB_URL", "SMB_USERNAME", "SMB_PASSWORD", "SMB_SHARES", "CLOUD_DP", "aws_cdp_mode", "S3_BUCKET_NAME",
	"max_tries", "insecure_mode", "jcds2_s3_endpoint"}

// GetCleanerManifest is JCDS2PackageCleaner's manifest (the shim's inputs).
func GetCleanerManifest() Manifest {
	var ins []Input
	for _, name := range cleanerConnection {
		if in, ok := LookupInput(name); ok {
			ins = append(ins, in)
		}
	}
	for _, in := range CleanerInputs {
		if in.Kind == "" {
			in.Kind = "string"
		}
		ins = append(ins, in)
	}
	return Manifest{Processor: CleanerName, Description: CleanerDescription, Inputs: ins,
		Outputs:          []Output{{Name: CleanerSummaryKey, Description: "Summary for AutoPkg's report (JamfPackageCleaner's, and kept_in_use), written by a run that was not a dry run."}},
		SecretKeyMarkers: SecretKeyMarkers}
}
