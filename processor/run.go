package processor

import (
	"context"
	"fmt"
	"io"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// ExitProcessorError is AutoPkg's exit code for a ProcessorError.
const ExitProcessorError = 10

// Options adjust a processor run.
type Options struct {
	// Format forces the output plist format; 0 mirrors the input.
	Format Format
	// Args are key=value arguments; when present stdin is not read.
	Args []string
}

// Run is processor mode: env in, env out. It returns the exit code.
func Run(ctx context.Context, up jcds2.Uploader, stdin io.Reader, stdout, stderr io.Writer, opts Options) int {
	early := NewLogger(stderr, 0)
	var env Env
	format := FormatXML
	if len(opts.Args) > 0 {
		var err error
		env, err = ParseKeyValues(opts.Args, func(msg string) { fmt.Fprintln(stderr, msg) })
		if err != nil {
			early.Error(err.Error())
			return ExitProcessorError
		}
	} else {
		data, err := readLimited(stdin, MaxInputBytes, "stdin")
		if err != nil {
			early.Error(err.Error())
			return ExitProcessorError
		}
		if env, format, err = DecodeEnv(data); err != nil {
			early.Error(err.Error())
			return ExitProcessorError
		}
	}
	if opts.Format != 0 {
		format = opts.Format
	}
	log := NewLogger(stderr, Verbose(env))
	out, err := Process(ctx, up, env, log)
	if err != nil {
		log.Error(err.Error())
		return ExitProcessorError
	}
	data, err := EncodeEnv(out.WithoutSecrets(), format)
	if err != nil {
		log.Error(err.Error())
		return ExitProcessorError
	}
	if _, err := stdout.Write(data); err != nil {
		log.Error(fmt.Sprintf("writing the output plist: %v", err))
		return ExitProcessorError
	}
	return 0
}

// Process runs one upload on env and returns env with the outputs set.
// env is changed in place, as AutoPkg's processors change self.env.
func Process(ctx context.Context, up jcds2.Uploader, env Env, log *Logger) (Env, error) {
	return process(ctx, up, env, log, processorNames)
}

func process(ctx context.Context, up jcds2.Uploader, env Env, log *Logger, names Names) (Env, error) {
	for _, s := range env.SecretValues() {
		log.Secret(s)
	}
	// A stale summary from an earlier step must never be re-reported.
	delete(env, SummaryKey)
	ApplyDefaults(env, log)
	if err := CheckRequired(env); err != nil {
		return nil, err
	}
	if err := CheckNotImplemented(env); err != nil {
		return nil, err
	}
	fillFromKeychain(ctx, env, log)
	req, warnings, err := BuildRequest(env)
	if err != nil {
		return nil, err
	}
	// The pairs as HTTP Basic sends them (base64 of "id:secret"), so that
	// an echoed Authorization header is scrubbed too.
	if a := req.Auth; a.Username != "" && a.Password != "" {
		log.Secret(a.Username + ":" + a.Password)
	}
	if a := req.Auth; a.ClientID != "" && a.ClientSecret != "" {
		log.Secret(a.ClientID + ":" + a.ClientSecret)
	}
	for _, w := range warnings {
		log.Logf(0, "%s", w)
	}
	dps, dpWarnings, err := DistributionPoints(env)
	if err != nil {
		return nil, err
	}
	for _, w := range dpWarnings {
		log.Logf(0, "%s", w)
	}
	log.ShowProgress(req.ShowProgress)
	if !req.DryRun { // a dry run changes nothing, so it need not wait
		release, err := takeRunLock(ctx, req, log, names.LockWait)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	destinations(dps, req, log)
	res, err := up.Upload(ctx, req, edgeLog{log, names})
	if err != nil {
		return nil, names.hint(err)
	}
	if line := names.outcome(res); line != "" {
		log.Logf(0, "%s", line)
	}
	SetOutputs(env, req, res)
	return env, nil
}

// SetOutputs writes the outputs and, only when something changed, the
// summary in exactly JamfPackageUploader's shape.
func SetOutputs(env Env, req *jcds2.Request, res *jcds2.Result) {
	env["pkg_name"] = res.PkgName
	env["pkg_display_name"] = req.DisplayName
	env["pkg_path"] = req.PkgPath
	env["pkg_uploaded"] = res.Uploaded
	env["pkg_metadata_updated"] = res.MetadataUpdated
	env["pkg_id"] = res.PkgID
	env["pkg_hash_sha3_512"] = res.SHA3
	env["pkg_hash_md5"] = res.MD5
	env["pkg_upload_status"] = res.Status
	delete(env, SummaryKey)
	if !res.Uploaded && !res.MetadataUpdated {
		return
	}
	name := "None"
	if v, ok := env["NAME"]; ok && v != nil {
		name = PyStr(v)
	}
	version, _ := String(env, "version")
	env[SummaryKey] = map[string]any{
		"summary_text":  "The following packages were uploaded to or updated in Jamf Pro:",
		"report_fields": []any{"category", "name", "pkg_name", "pkg_display_name", "pkg_path", "version", "packages_recalculated"},
		"data": map[string]any{
			"category":              req.Category,
			"name":                  name,
			"pkg_name":              res.PkgName,
			"pkg_display_name":      req.DisplayName,
			"pkg_path":              res.PkgPath,
			"version":               version,
			"packages_recalculated": pyBool(res.Recalculated),
		},
	}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// destinations hands the engine the file shares and the self-hosted S3
// distribution point the inputs name; the engine observes them with the
// server, plans and only then writes (nothing is written before the
// credentials, the category and every destination were looked at). The
// reference's rule decides the cloud: with shares configured, the cloud
// distribution point is uploaded to only when CLOUD_DP is true; with
// aws_cdp_mode the S3 bucket takes the cloud's place.
func destinations(cfg distpoint.Config, req *jcds2.Request, log *Logger) {
	for _, sh := range cfg.Shares {
		log.Secret(sh.Password)
		req.Destinations = append(req.Destinations, &distpoint.ShareDest{Share: sh, Log: log})
	}
	// The bucket stands in for the cloud distribution point, so, as in
	// the reference, it is used only when the cloud one is (CLOUD_DP with
	// shares; DistributionPoints warns otherwise).
	s3 := cfg.S3 != nil && cfg.CloudDP
	if s3 {
		req.Destinations = append(req.Destinations, &distpoint.S3Dest{Target: *cfg.S3, Log: log})
	}
	if len(req.Destinations) > 0 && (!cfg.CloudDP || s3) {
		req.Route = jcds2.RouteElsewhere
	}
}
