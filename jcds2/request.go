// Package jcds2 is the Jamf Pro client and the upload engine: from a
// package on disk to exactly one verified package record and one
// distribution-point file in Jamf Pro.
package jcds2

import (
	"context"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// Route picks how the file reaches the distribution point.
type Route int

const (
	// RouteAuto uses JCDS 2.0 when the server has it, the packages upload otherwise.
	RouteAuto Route = iota
	// RouteJCDS2 uploads straight to S3 with credentials from
	// /api/v1/jcds/files. Asked for, it is a preference: where JCDS
	// refuses, the packages route is taken (DecideRoute).
	RouteJCDS2
	// RoutePackages uploads through POST /api/v1/packages/{id}/upload.
	RoutePackages
	// RouteElsewhere uploads to no cloud route: the package goes to
	// Request.Destinations only (file shares without the cloud
	// distribution point, or a self-hosted S3 bucket in its place).
	RouteElsewhere
)

func (r Route) String() string {
	switch r {
	case RouteJCDS2:
		return "jcds2"
	case RoutePackages:
		return "packages-api"
	case RouteElsewhere:
		return "distribution-points"
	}
	return "auto"
}

// Credentials to mint (or use) a bearer token.
type Credentials = jamf.Credentials

// Request is everything the engine needs, validated by the processor.
type Request struct {
	URL      string // base URL, no trailing slash
	Insecure bool   // skip TLS verification
	Auth     Credentials

	PkgPath string // file to upload (a bundle directory is zipped first)
	PkgName string // file name in Jamf Pro

	DisplayName    string
	Category       string
	Info           string
	Notes          string
	Priority       int
	RebootRequired bool
	OSRequirements string
	// Classic-only fields.
	RequiredProcessor string
	SendNotification  bool

	Replace         bool
	ReplaceMetadata bool
	SkipMetadata    bool
	UseMD5          bool
	Route           Route
	DryRun          bool

	MaxTries         int
	RetryFloor       time.Duration
	Recalculate      bool
	RecalculateWait  time.Duration
	VerifyTimeout    time.Duration
	LockWait         time.Duration // for another run on this machine uploading the same file (0: no limit)
	Timeout          time.Duration // per request, waiting for an answer
	RemoveDuplicates bool
	S3Endpoint       string
	Concurrency      int
	PartSize         int64
	ShowProgress     bool

	CacheDir   string // where hash and token caches live ("" = user cache dir)
	ReuseToken bool

	// NoLock skips the per-machine run lock (tests of the lock's absence).
	NoLock bool

	// Destinations are the distribution points beside the cloud route
	// (file shares, a self-hosted S3 bucket): observed, planned and
	// written by the engine with the record (destination.go).
	Destinations []dest.Destination
}

// Result says what a run did.
type Result struct {
	PkgID           string
	PkgName         string
	PkgPath         string // the file uploaded (the zip for bundles)
	Uploaded        bool
	MetadataUpdated bool
	Verified        bool
	Recalculated    bool
	SHA3            string
	MD5             string
	Status          string
	// Outcome is how the run left the package (outcome.go); NeedsReplace:
	// allowing replacement would upload the local package.
	Outcome      Outcome
	NeedsReplace bool
	Plan         []string // dry run: the writes that would happen
	HTTPCalls    int
	Route        Route
	// Waits are the times spent waiting for Jamf Pro (processing the
	// upload, making the record READY), timed by the client.
	Waits []Wait
	// Elapsed is the whole run, Uploading the upload itself.
	Elapsed, Uploading time.Duration
}

// Wait is one wait for the server.
type Wait struct {
	What     string
	Took     time.Duration
	Requests int
}

// Waited is the sum of the waits.
func (r *Result) Waited() time.Duration {
	var d time.Duration
	for _, w := range r.Waits {
		d += w.Took
	}
	return d
}

// Logger receives the engine's messages; the processor filters them by
// verbosity and scrubs secrets. The engine calls it from several
// goroutines at once (a look's reads go together: observe.go), so it
// must be safe for concurrent use.
type Logger interface {
	Logf(level int, format string, args ...any)
	// Secret registers a value that must never be printed.
	Secret(value string)
	// Progress reports bytes sent so far for a long transfer.
	Progress(done, total int64)
	// Note says a plan's note; the edge renders its Hint in the words
	// of its own inputs or flags.
	Note(n Note)
}

// Uploader is what the processor calls.
type Uploader interface {
	Upload(ctx context.Context, req *Request, log Logger) (*Result, error)
}
