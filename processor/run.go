package processor

import (
	"context"
	"errors"
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
	LogIgnored(env, log)
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
		release, err := takeRunLock(ctx, req, log)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	outcomes, err := copyToDistributionPoints(ctx, dps, req, log, names)
	if err != nil {
		return nil, err
	}
	res, err := up.Upload(ctx, req, edgeLog{log, names})
	if err != nil {
		return nil, names.hint(err)
	}
	if distpoint.AnyCopied(outcomes) {
		res.Uploaded = true
	}
	if err := distpoint.Failures(outcomes); err != nil {
		return nil, err
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

// copyToDistributionPoints puts the package on the file shares and the
// self-hosted S3 distribution point the inputs name, before any record
// is written, so no record names a file that is not there yet. The
// reference's rule decides the cloud: with shares configured, the cloud
// distribution point is uploaded to only when CLOUD_DP is true; with
// aws_cdp_mode the S3 bucket takes the cloud's place. Where the cloud is
// not uploaded to, the engine writes the record only. Each target's
// outcome is logged; the caller fails the run for any target not written.
func copyToDistributionPoints(ctx context.Context, cfg distpoint.Config, req *jcds2.Request, log *Logger, names Names) ([]distpoint.Outcome, error) {
	if len(cfg.Shares) == 0 && cfg.S3 == nil {
		return nil, nil
	}
	if req.DryRun {
		for _, sh := range cfg.Shares {
			log.Logf(0, "Dry run: would copy %s to the file share %s unless it holds the same bytes", req.PkgName, sh)
		}
		if cfg.S3 != nil {
			log.Logf(0, "Dry run: would upload %s to s3://%s/ unless it holds the same bytes", req.PkgName, cfg.S3.Bucket)
		}
		if !cfg.CloudDP || cfg.S3 != nil {
			req.RecordOnly = true
		}
		return nil, nil
	}
	path, err := jcds2.PreparePackage(req, edgeLog{log, names})
	if err != nil {
		return nil, err
	}
	pkg := distpoint.Package{Path: path, Name: req.PkgName}
	opts := distpoint.Options{Replace: req.Replace, Log: log}
	outcomes := distpoint.CopyToShares(ctx, cfg.Shares, pkg, opts)
	if cfg.S3 != nil {
		outcomes = append(outcomes, distpoint.UploadS3(ctx, *cfg.S3, pkg, opts))
	}
	for _, o := range outcomes {
		line := o.String()
		switch {
		case o.Status == distpoint.SkippedDifferent:
			line += ": set " + names.Replace + " to replace it"
		case errors.Is(o.Err, distpoint.ErrRetryReplacing):
			line += " (with " + names.Replace + ")"
		case errors.Is(o.Err, distpoint.ErrPlainHTTP):
			line += " (" + names.Insecure + " allows it)"
		}
		log.Logf(0, "%s", line)
	}
	if cfg.CloudDP && cfg.S3 == nil {
		return outcomes, nil // the cloud upload follows, as without shares
	}
	failed := distpoint.Failures(outcomes)
	if !anyHolds(outcomes) && failed != nil {
		// Nowhere holds the package: write no record that would name it.
		return nil, failed
	}
	req.PkgPath = path
	req.RecordOnly, req.FileChanged, req.Refresh = true, distpoint.AnyCopied(outcomes), cfg.S3 != nil
	req.HashUnknown = !anyHolds(outcomes)
	return outcomes, nil
}

// anyHolds reports a target that now holds the package.
func anyHolds(outcomes []distpoint.Outcome) bool {
	for _, o := range outcomes {
		if o.Err == nil && (o.Status == distpoint.Copied || o.Status == distpoint.Unchanged) {
			return true
		}
	}
	return false
}
