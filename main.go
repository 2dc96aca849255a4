// Command jcds2-uploader puts macOS packages into Jamf Pro.
//
// With its env plist on stdin (stdin not a terminal), or with key=value
// arguments, it is an AutoPkg processor: the updated env on stdout, logs
// on stderr, exit 10 with "ProcessorError: ..." on failure. The commands
// in the table below are for people; see usage.
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
	"sync/atomic"
	"syscall"

	"github.com/jcds2-uploader/jcds2-uploader/doctor"
	"github.com/jcds2-uploader/jcds2-uploader/inflight"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Stamped by the release build (ldflags -X main.version=... -X
// main.commit=... -X main.date=...); a plain `go build` leaves these.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// versionLine is what `jcds2-uploader version` prints.
func versionLine() string {
	return fmt.Sprintf("jcds2-uploader %s (commit %s, date %s)", version, commit, date)
}

// Exit codes, documented in usage and docs/cli.md.
const (
	exitOK          = 0
	exitFailed      = 1 // the run (or check) failed
	exitUsage       = 2 // the command line is wrong
	exitInterrupted = 130
)

// command is one row of the dispatch table. A new command is one line
// here (and a function).
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

var commands []command

func init() {
	// In init, because help and completion read the table they are in.
	commands = []command{
		{"pkg", "[PATH] [flags]", "upload one package", runPkg},
		{"doctor", "[flags]", "check, without writing anything, that a run would work", doctorCmd},
		{"prune", "--match PREFIX [flags]", "delete old versions nothing installs, printing the plan first", runPrune},
		{"audit", "[--json] [--csv FILE] [--fix]", "report what is wrong in the package repository (--fix: what a run would converge)", runAudit},
		{"clean", "[key=value ...]", "the JCDS2PackageCleaner AutoPkg processor (env plist on stdin)", runClean},
		{"process", "[--format xml|binary] [key=value ...]", "AutoPkg processor mode (the default when stdin is not a terminal)", runProcess},
		{"sim", "[flags]", "run a Jamf Pro simulator to try things offline", noStdin(runSim)},
		{"demo", "", "simulator + two uploads, explained", noStdin(runDemo)},
		{"manifest", "", "print the processor's inputs and outputs as JSON", runManifest},
		{"completion", "bash|zsh|fish", "print a shell completion script", runCompletion},
		{"version", "", "print the version, commit and build date", runVersion},
		{"help", "[COMMAND]", "show help for jcds2-uploader or a command", runHelp},
	}
}

func noStdin(f func(context.Context, []string, io.Writer, io.Writer) int) func(context.Context, []string, io.Reader, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
		return f(ctx, args, stdout, stderr)
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage() string {
	var b strings.Builder
	b.WriteString(`jcds2-uploader puts macOS packages into Jamf Pro, from AutoPkg or by hand.

Usage:
  jcds2-uploader COMMAND [flags]
  jcds2-uploader < env.plist > out.plist      (AutoPkg processor mode)

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Credentials come from the environment (JSS_URL, CLIENT_ID, CLIENT_SECRET,
API_USERNAME, API_PASSWORD, BEARER_TOKEN), an AutoPkg preferences file
(--prefs), or on macOS the login keychain; never from the command line.

Exit status: 0 success, 1 the run failed, 2 usage error, 130 interrupted
(processor mode: 10 on any failure, as AutoPkg expects).

Run 'jcds2-uploader COMMAND --help' for a command's flags.
`)
	return b.String()
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

// interrupted is set by the first SIGINT or SIGTERM.
var interrupted atomic.Bool

// interrupts ends ctx at the first SIGINT or SIGTERM, so the run aborts
// what it started (the multipart upload, on a short deadline of its
// own) and says what it left. A second signal exits at once, saying
// what is left (the run keeps its step and leftovers in an
// inflight.Tracker), for a user who will not wait.
func interrupts(stderr io.Writer) (context.Context, func()) {
	base, tracker := inflight.With(context.Background())
	ctx, cancel := context.WithCancel(base)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			interrupted.Store(true)
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(stderr, secondInterrupt(tracker))
			os.Exit(processor.ExitProcessorError)
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(sigs); close(done); cancel() }
}

// secondInterrupt is the last line of a run stopped at once: what it
// was doing and what it leaves, as far as the run said (an
// inflight.Tracker); otherwise what a run between its steps may leave.
func secondInterrupt(t *inflight.Tracker) string {
	const head = "ProcessorError: interrupted again: exiting at once"
	step, left := t.Now()
	if step == "" && len(left) == 0 {
		// Uploads and share copies that can leave something half-done say
		// so while they run (a single PutObject leaves nothing).
		return head + ". No upload or copy is left half-done; a file or record this run wrote may not be recorded or verified yet: run again to finish"
	}
	line := head
	if step != "" {
		line += " while " + step
	}
	if len(left) > 0 {
		line += ". Left behind: " + strings.Join(left, "; ")
	}
	return line + ": run again to finish"
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := interrupts(stderr)
	defer stop()
	if len(args) == 0 {
		// AutoPkg (and the shim) always pipe the env in; a person at a
		// terminal gets the usage instead of a silent wait on stdin.
		if isTerminal(stdin) {
			fmt.Fprint(stdout, usage())
			return exitOK
		}
		return runProcess(ctx, nil, stdin, stdout, stderr)
	}
	first := args[0]
	switch {
	case first == "-h" || first == "--help":
		return runHelp(ctx, nil, stdin, stdout, stderr)
	case first == "--version":
		return runVersion(ctx, nil, stdin, stdout, stderr)
	case strings.HasPrefix(first, "--format") || (strings.Contains(first, "=") && !strings.HasPrefix(first, "-")):
		// key=value arguments, as AutoPkg's execute_shell takes them.
		return runProcess(ctx, args, stdin, stdout, stderr)
	}
	if c := lookup(first); c != nil {
		if len(args) > 1 && (args[1] == "-h" || args[1] == "--help") && hasOwnHelp[c.name] {
			fmt.Fprint(stdout, shortHelp(c))
			return exitOK
		}
		return c.run(ctx, args[1:], stdin, stdout, stderr)
	}
	what := "command"
	if strings.HasPrefix(first, "-") {
		what = "flag"
	}
	fmt.Fprintf(stderr, "jcds2-uploader: unknown %s %q\n", what, first)
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.name)
	}
	if s := suggest(strings.TrimLeft(first, "-"), names, commandSynonyms); s != "" {
		fmt.Fprintf(stderr, "Did you mean %q?\n", s)
	}
	fmt.Fprintf(stderr, "Usage: jcds2-uploader COMMAND [flags]; the commands: %s\n", strings.Join(names, ", "))
	fmt.Fprintln(stderr, "Run 'jcds2-uploader help' for more.")
	return exitUsage
}

// commandSynonyms are words people type for a command.
var commandSynonyms = map[string]string{
	"upload": "pkg", "package": "pkg", "packages": "pkg", "push": "pkg",
	"check": "doctor", "simulator": "sim", "--version": "version", "completions": "completion",
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runPkg(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	code := processor.RunCLI(ctx, newUploader(), args, stdout, stderr)
	if code != exitOK && interrupted.Load() {
		return exitInterrupted
	}
	return code
}

// prune, audit and clean are the package lifecycle (docs/lifecycle.md).
func runPrune(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return processor.RunPrune(ctx, args, stdout, stderr)
}

func runAudit(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return processor.RunAudit(ctx, newUploader(), args, stdout, stderr)
}

func runClean(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return processor.RunClean(ctx, stdin, stdout, stderr, args)
}

func doctorCmd(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return doctor.Run(ctx, args, stdout, stderr)
}

func runProcess(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, err := processFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "ProcessorError: %v\n", err)
		return processor.ExitProcessorError
	}
	if len(opts.Args) == 0 && isTerminal(stdin) {
		// Asked for by name at a terminal: say what it waits for.
		fmt.Fprintln(stderr, "jcds2-uploader process: reading AutoPkg's env plist from stdin (end it with Ctrl-D; Ctrl-C to stop)")
	}
	return processor.Run(ctx, newUploader(), stdin, stdout, stderr, opts)
}

func runManifest(_ context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(processor.GetManifest()); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	return exitOK
}

func runVersion(_ context.Context, _ []string, _ io.Reader, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, versionLine())
	return exitOK
}

func runHelp(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	c := lookup(args[0])
	switch {
	case c == nil:
		return run(args, stdin, stdout, stderr) // unknown: the same "did you mean"
	case hasOwnHelp[c.name]:
		fmt.Fprint(stdout, shortHelp(c))
		return exitOK
	}
	return c.run(ctx, []string{"--help"}, stdin, stdout, stderr)
}

// hasOwnHelp are the commands without flags of their own, whose help is
// the table's line (process: and what the contract is).
var hasOwnHelp = map[string]bool{"help": true, "version": true, "manifest": true, "process": true}

func shortHelp(c *command) string {
	h := fmt.Sprintf("Usage: %s\n\n%s.\n", strings.TrimSpace("jcds2-uploader "+c.name+" "+c.args), upperFirst(c.summary))
	if c.name == "process" {
		h += `
Reads AutoPkg's env plist (XML or binary) on stdin, or key=value
arguments as AutoPkg's execute_shell takes them, and writes the updated
env on stdout in the same format (--format forces one). Log lines go to
stderr, filtered by the env's verbose. On failure the last line is
"ProcessorError: ..." and the exit status is 10.
`
	}
	return h
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
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
