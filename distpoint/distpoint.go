// Package distpoint holds the Jamf Pro distribution points that are not
// the cloud one, as dest.Destination implementations: file shares (SMB
// 2/3, or a plain directory through file://: ShareDest) and a
// self-hosted S3 bucket (JamfPackageUploader's aws_cdp_mode: S3Dest). It
// never talks to Jamf Pro and decides nothing: the engine observes every
// destination, plans, and only then puts.
package distpoint

import (
	"errors"
	"fmt"
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

// stall is how long a destination's work may make no progress.
func stall(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return 2 * time.Minute
}

// ErrRetryReplacing marks a failure a run that may replace files would
// mend; ErrPlainHTTP an endpoint that needs the insecure switch. The
// caller adds the names its users know these settings by.
var (
	ErrRetryReplacing = errors.New("run again allowing replacement")
	ErrPlainHTTP      = errors.New("plain http to a host that is not loopback")
)
