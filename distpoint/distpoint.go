// Package distpoint puts a package on the Jamf Pro distribution points
// that are not the cloud one: file shares (SMB 2/3, or a plain directory
// through file://) and a self-hosted S3 bucket (JamfPackageUploader's
// aws_cdp_mode). It never talks to Jamf Pro: the engine decides when to
// call it and records the package afterwards.
//
// Every destination is handled on its own and reports an Outcome; a
// destination that fails never stops the others. Failures(outcomes)
// turns the failed ones into one error for the caller to fail the run.
package distpoint

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Logger is what the caller's logger must offer; the processor's
// *Logger and any jcds2.Logger satisfy it. A nil Logger is silent.
type Logger interface {
	Logf(level int, format string, args ...any)
	// Secret registers a value that must be scrubbed from every line.
	Secret(value string)
	// Progress reports bytes written so far for one destination.
	Progress(done, total int64)
}

// Package is the local file to distribute.
type Package struct {
	Path string // a regular file; the engine zips bundle packages first
	Name string // file name on the distribution point (pkg_name)
	// SHA256 is the file's SHA-256 in hex if the caller already has it;
	// empty means it is computed once, and only when a comparison needs it.
	SHA256 string
}

// Share is one file-share distribution point, as configured.
type Share struct {
	// Input names where it came from, for messages: SMB_URL, SMB2_URL,
	// SMB_SHARES[1] ...
	Input string
	// URL is smb://server[:port]/share[/folder] or file:///path. The
	// package goes into the Packages folder under it.
	URL      string
	Username string // may be DOMAIN\user
	Password string
}

// String is the share's URL without credentials: safe to log.
func (s Share) String() string {
	loc, err := parseShareURL(s.URL)
	if err != nil {
		return s.Input
	}
	return loc.display
}

// GoString keeps %#v from printing the password.
func (s Share) GoString() string {
	return fmt.Sprintf("distpoint.Share{Input: %q, URL: %q, Username: %q, Password: [redacted]}", s.Input, s.String(), s.Username)
}

// Validate checks the URL (and that an smb:// share has credentials)
// without touching the network or the disk. Errors name s.Input.
func (s Share) Validate() error {
	loc, err := parseShareURL(s.URL)
	if err != nil {
		return fmt.Errorf("%s %w", s.Input, err)
	}
	if loc.scheme == "smb" && (s.Username == "" || s.Password == "") {
		return fmt.Errorf("%s is an smb:// share without a user name or password: give both", s.Input)
	}
	return nil
}

// S3Target is a self-hosted S3 distribution point (aws_cdp_mode): the
// package goes to s3://Bucket/<pkg_name>. Credentials, region and
// endpoint come from the standard AWS configuration chain.
type S3Target struct {
	Bucket string
	// Insecure allows a plain http:// endpoint to a non-loopback host and
	// turns off TLS certificate verification (insecure_mode).
	Insecure    bool
	MaxTries    int   // attempts per request; 0 means 5
	PartSize    int64 // multipart part size in bytes; 0 picks one from the size
	Concurrency int   // parallel part uploads; 0 means 4
}

// Validate checks the bucket name without any request.
func (t S3Target) Validate() error { return checkBucket(t.Bucket) }

// Config is what the processor parsed from the inputs.
type Config struct {
	Shares []Share
	// CloudDP says whether the cloud distribution point is uploaded to,
	// after the reference's rule: with shares configured only when
	// CLOUD_DP is true, with none always.
	CloudDP bool
	// S3, when set (aws_cdp_mode), replaces the upload to Jamf's cloud
	// distribution point; like in the reference it is only used when
	// CloudDP is true.
	S3 *S3Target
}

// Options adjust a copy or an upload.
type Options struct {
	// Replace (replace_pkg) lets a different file under the same name be
	// overwritten, and asks for a hash comparison when sizes match.
	Replace bool
	Log     Logger
	// StallTimeout ends a destination's work when it makes no progress
	// for this long (a server that stopped answering); 0 means 2 minutes.
	StallTimeout time.Duration
}

func (o Options) stall() time.Duration {
	if o.StallTimeout > 0 {
		return o.StallTimeout
	}
	return 2 * time.Minute
}

// Status is what happened at one destination.
type Status int

const (
	// Failed is the zero value, so an Outcome nobody filled in is never a
	// success. Err says why.
	Failed Status = iota
	// Copied: the package was written (new, or replacing different bytes).
	Copied
	// Unchanged: the same bytes were already there (compared by hash);
	// nothing was written.
	Unchanged
	// SkippedDifferent: a file of another size is there and Replace is off.
	SkippedDifferent
	// SkippedExisting: a file of the same size is there and Replace is off;
	// it was not read, so whether its bytes match is not known.
	SkippedExisting
)

func (s Status) String() string {
	switch s {
	case Copied:
		return "copied"
	case Unchanged:
		return "unchanged"
	case SkippedDifferent:
		return "different, not replaced"
	case SkippedExisting:
		return "present, not replaced"
	}
	return "failed"
}

// Outcome is one destination's result.
type Outcome struct {
	Target string // the share URL without credentials, or s3://bucket/key
	Input  string // the input that configured it (SMB2_URL, S3_BUCKET_NAME ...)
	Status Status
	Bytes  int64 // bytes written in this run
	Err    error // set when Status is Failed; never holds a password
}

// String is one log line for the outcome.
func (o Outcome) String() string {
	switch o.Status {
	case Failed:
		return fmt.Sprintf("%s: failed: %v", o.Target, o.Err)
	case SkippedDifferent:
		return fmt.Sprintf("%s: a different file of that name is there; not replaced (replacing was not asked for)", o.Target)
	case SkippedExisting:
		return fmt.Sprintf("%s: a file of that name and size is there; not replaced (replacing was not asked for)", o.Target)
	case Copied:
		return fmt.Sprintf("%s: copied (%d bytes)", o.Target, o.Bytes)
	}
	return fmt.Sprintf("%s: %s", o.Target, o.Status)
}

// ErrRetryReplacing marks a failure a run that may replace files would
// mend; ErrPlainHTTP an endpoint that needs the insecure switch. The
// caller adds the names its users know these settings by.
var (
	ErrRetryReplacing = errors.New("run again allowing replacement")
	ErrPlainHTTP      = errors.New("plain http to a host that is not loopback")
)

// AnyCopied reports whether any destination was written in this run.
func AnyCopied(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if o.Status == Copied {
			return true
		}
	}
	return false
}

// Failures returns nil when every destination succeeded (copied,
// unchanged or skipped), else one error naming each failed one. The
// caller fails the run with it (exit 10).
func Failures(outcomes []Outcome) error {
	var msgs []string
	var errs []error
	for _, o := range outcomes {
		if o.Status == Failed {
			msgs = append(msgs, fmt.Sprintf("%s (%s): %v", o.Target, o.Input, o.Err))
			errs = append(errs, o.Err)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return &NotWrittenError{Msg: fmt.Sprintf("the package could not be written to %d of %d distribution points: %s",
		len(msgs), len(outcomes), strings.Join(msgs, "; ")), errs: errs}
}

// NotWrittenError is Failures' error; errors.Is/As see each cause.
type NotWrittenError struct {
	Msg  string
	errs []error
}

func (e *NotWrittenError) Error() string   { return e.Msg }
func (e *NotWrittenError) Unwrap() []error { return e.errs }
