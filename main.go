// Command jcds2-uploader puts macOS packages into Jamf Pro over JCDS 2.0.
//
// With no arguments (or "process") it is an AutoPkg processor: the env
// plist on stdin, the updated env on stdout, logs on stderr, exit 10 with
// "ProcessorError: ..." on failure. key=value arguments work as in
// AutoPkg's execute_shell. "pkg" is the same upload for people, with
// flags; "doctor" checks, read-only, that a run would work; "sim" runs
// the Jamf Pro simulator; "demo" shows both together.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/jcds2-uploader/jcds2-uploader/doctor"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

const usage = `jcds2-uploader: upload macOS packages to Jamf Pro over JCDS 2.0.

Usage:
  jcds2-uploader [process] [--format xml|binary] [key=value ...]
        AutoPkg processor mode: reads the env plist from stdin (or key=value
        arguments), writes the updated env plist to stdout.
  jcds2-uploader pkg --pkg PATH [flags]     upload one package (see pkg --help)
  jcds2-uploader doctor [flags]             check, read-only, that a run would work (see doctor --help)
  jcds2-uploader sim [flags]                run the Jamf Pro simulator (see sim --help)
  jcds2-uploader demo                       simulator + two uploads, explained
  jcds2-uploader manifest                   print the input/output manifest as JSON
  jcds2-uploader version                    print the version
`

// Stamped by the release build (.goreleaser.yaml ldflags: -X main.version
// etc.; date is the commit's, so builds are reproducible); a plain `go build` leaves these. Note for the #18 command-dispatch
// rewrite: keep these three names and the `version` output below (version,
// commit and date, one line) — the release tests and the Homebrew cask's
// test run `jcds2-uploader version` and read it.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// versionLine is what `jcds2-uploader version` prints.
func versionLine() string {
	return fmt.Sprintf("jcds2-uploader %s (commit %s, date %s)", version, commit, date)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// uploadMemoryLimit is the soft memory limit of an upload.
const uploadMemoryLimit = 48 << 20

// memoryLimited sets the soft memory limit as the upload begins. Part
// buffers (part size × (concurrency+1)) are most of the memory an upload
// needs, and the limit keeps the garbage collector from letting the heap
// double beyond them. It is not set any earlier: decoding a large env
// under it made the collector run without pause (a 0.9 MB binary plist
// took a minute). GOMEMLIMIT overrides it.
type memoryLimited struct{ jcds2.Uploader }

func (m memoryLimited) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(uploadMemoryLimit)
	}
	return m.Uploader.Upload(ctx, req, log)
}

func newUploader() jcds2.Uploader { return memoryLimited{jcds2.NewEngine()} }

// interrupts ends ctx at the first SIGINT or SIGTERM, so the run aborts
// what it started (the multipart upload, on a short deadline of its
// own) and says what it left. A second signal exits at once, saying
// what may be left, for a user who will not wait.
func interrupts(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "ProcessorError: interrupted again: exiting at once. A multipart upload may be left open in S3 (Jamf Pro never lists it) and a record this run wrote may not be verified yet: run again to finish")
			os.Exit(processor.ExitProcessorError)
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(sigs); close(done); cancel() }
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := interrupts(stderr)
	defer stop()
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "--version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "manifest":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(processor.GetManifest()); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case "pkg", "package":
		return processor.RunCLI(ctx, newUploader(), args[1:], stdout, stderr)
	case "doctor":
		return doctor.Run(ctx, args[1:], stdout, stderr)
	case "sim":
		return runSim(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "process":
		args = args[1:]
	}
	opts, err := processFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "ProcessorError: %v\n", err)
		return processor.ExitProcessorError
	}
	return processor.Run(ctx, newUploader(), stdin, stdout, stderr, opts)
}

// processFlags takes --format from the front of the arguments; the rest
// are key=value pairs (keys are identifiers, so they never start with -).
func processFlags(args []string) (processor.Options, error) {
	var opts processor.Options
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		flag, val, hasVal := strings.Cut(args[0], "=")
		if flag != "--format" {
			return opts, fmt.Errorf("unknown flag %s: processor mode takes only --format xml|binary and key=value arguments", flag)
		}
		if !hasVal {
			if len(args) < 2 {
				return opts, fmt.Errorf("--format needs a value: xml or binary")
			}
			val, args = args[1], args[1:]
		}
		f, err := processor.ParseFormat(val)
		if err != nil {
			return opts, err
		}
		opts.Format = f
		args = args[1:]
	}
	opts.Args = args
	return opts, nil
}
