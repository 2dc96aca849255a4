package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// runSim serves the Jamf Pro simulator until interrupted.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on (port 0: any free port)")
	version := fs.String("version", "11.30.1", "Jamf Pro `version` to report (e.g. 10.49, 11.4, 11.10, 11.30.1)")
	noJCDS := fs.Bool("no-jcds", false, "answer as a server without JCDS 2.0 (packages upload route only)")
	s3Endpoint := fs.String("s3-endpoint", "", "external S3 (MinIO) endpoint `URL`; root credentials from MINIO_ROOT_USER and MINIO_ROOT_PASSWORD (default: embedded S3)")
	ingest := fs.Duration("ingest-delay", 0, "how long JCDS takes to list an upload (a `duration` such as 5s)")
	const about = `Usage: jcds2-uploader sim [flags]

Runs a Jamf Pro + JCDS 2.0 simulator, with test credentials, for trying the
pkg command and recipes offline. It prints the settings to export, then
serves until interrupted (Ctrl-C).
`
	if code, stop := processor.ParseCommandFlags(fs, args, about, nil, stdout, stderr); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jcds2-uploader sim: unexpected argument %q: sim takes flags only\nRun 'jcds2-uploader sim --help' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	cfg := jamfsim.Config{Addr: *addr, Version: *version, NoJCDS: *noJCDS, IngestDelay: *ingest}
	if *noJCDS {
		cfg.CDNType = "AMAZON_S3" // a cloud distribution point that is not Jamf Cloud
	}
	if *s3Endpoint != "" {
		cfg.S3 = jamfsim.NewMinIOBackend(*s3Endpoint, os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD"))
	}
	sim, err := jamfsim.New(cfg)
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = ": something else listens there; stop it, or give another address with --addr (and use that in JSS_URL)"
		}
		fmt.Fprintf(stderr, "jcds2-uploader sim: %v%s\n", err, hint)
		return 1
	}
	defer sim.Close()
	fmt.Fprintf(stdout, `Jamf Pro %s simulator at %s (test credentials; nothing here is real)

  export JSS_URL=%s
  export API_USERNAME=%s API_PASSWORD=%s
  # or: export CLIENT_ID=%s CLIENT_SECRET=%s
  export AWS_ENDPOINT_URL_S3=%s

Then: jcds2-uploader pkg /path/to/Some.pkg
Press Ctrl-C to stop.
`, *version, sim.URL, sim.URL, jamfsim.DefaultUser, jamfsim.DefaultPassword, jamfsim.DefaultClientID, jamfsim.DefaultClientSecret, sim.S3Endpoint())
	<-ctx.Done()
	return 0
}

// runDemo starts the simulator with its embedded S3, makes a sample
// package, uploads it through the processor contract (this very binary,
// env plist on stdin), uploads it again, and says what happened.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	const about = `Usage: jcds2-uploader demo

Starts the simulator with an embedded S3, makes a 24 MiB sample package,
uploads it through the processor contract, uploads it again, and shows what
Jamf Pro saw. It needs no network and no settings.
`
	if code, stop := processor.ParseCommandFlags(fs, args, about, nil, stdout, stderr); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jcds2-uploader demo: unexpected argument %q: demo takes no arguments\n", fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "jcds2-uploader demo:", err)
		return 1
	}
	sim, err := jamfsim.New(jamfsim.Config{})
	if err != nil {
		return fail(err)
	}
	defer sim.Close()
	dir, err := os.MkdirTemp("", "jcds2-demo-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	pkg := filepath.Join(dir, "Demo-1.0.pkg")
	data := make([]byte, 24<<20) // big enough for a multipart upload
	rand.Read(data)
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		return fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "Jamf Pro simulator at %s (embedded S3); sample package %s (24 MiB of random bytes)\n", sim.URL, pkg)
	env := processor.Env{
		"JSS_URL": sim.URL, "CLIENT_ID": jamfsim.DefaultClientID, "CLIENT_SECRET": jamfsim.DefaultClientSecret,
		"pkg_path": pkg, "pkg_category": "Testing", "NAME": "Demo", "version": "1.0", "verbose": uint64(1),
		"RECIPE_CACHE_DIR": filepath.Join(dir, "cache"),
	}
	input, err := processor.EncodeEnv(env, processor.FormatXML)
	if err != nil {
		return fail(err)
	}
	for i, title := range []string{"First run: a new package", "Second run: the same package again"} {
		fmt.Fprintf(stdout, "\n== %s\n", title)
		sim.ResetLog()
		start := time.Now()
		cmd := exec.CommandContext(ctx, self, "process")
		cmd.Stdin = bytes.NewReader(input)
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, stdout
		if err := cmd.Run(); err != nil {
			return fail(fmt.Errorf("run %d: %w", i+1, err))
		}
		res, _, err := processor.DecodeEnv(out.Bytes())
		if err != nil {
			return fail(err)
		}
		_, summary := res[processor.SummaryKey]
		fmt.Fprintf(stdout, "-> in %s: pkg_uploaded=%v pkg_metadata_updated=%v pkg_id=%v status=%q summary=%v\n",
			time.Since(start).Round(time.Millisecond), res["pkg_uploaded"], res["pkg_metadata_updated"], res["pkg_id"], res["pkg_upload_status"], summary)
		var calls []string
		for _, e := range sim.Log() {
			calls = append(calls, e.String())
		}
		fmt.Fprintf(stdout, "-> Jamf Pro saw %d requests: %s\n", len(calls), strings.Join(calls, ", "))
		fmt.Fprintf(stdout, "-> S3 saw %d requests\n", len(sim.S3Log()))
	}
	files := sim.Files()
	fmt.Fprintf(stdout, "\nThe simulator now holds %d package record(s) and %d file(s):", len(sim.Packages()), len(files))
	for name, f := range files {
		fmt.Fprintf(stdout, " %s (md5 %s)", name, f.MD5)
	}
	fmt.Fprintln(stdout)
	return 0
}
