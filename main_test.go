package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
	"github.com/rogpeppe/go-internal/testscript"
)

// These tests run the real binary as a subprocess, as AutoPkg's shim and
// people do, against the simulator.

var (
	binary string
	minio  *jamfsim.MinIOProcess
	// secretsChecked counts the runs whose output was searched for secrets.
	secretsChecked atomic.Int64
)

// TestMain runs the tests, or, when a test script runs jcds2-uploader,
// the real main in this process (testscript.Main).
func TestMain(m *testing.M) {
	testscript.Main(setup{m}, map[string]func(){
		"jcds2-uploader": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		// The same, as on a Mac whose login keychain the security tool
		// on PATH answers for (a fake one, in the script).
		"jcds2-uploader-on-macos": func() {
			processor.UseKeychainTool("darwin", "security")
			os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// setup builds the binary and starts MinIO for the subprocess tests,
// unless only the in-process ones are asked for.
type setup struct{ m *testing.M }

func (s setup) Run() int {
	flag.Parse()
	if only := flag.Lookup("test.run").Value.String(); strings.HasPrefix(strings.TrimPrefix(only, "^"), "TestScript") || strings.HasPrefix(strings.TrimPrefix(only, "^"), "TestReadme") || strings.HasPrefix(strings.TrimPrefix(only, "^"), "TestDocs") {
		return s.m.Run()
	}
	dir, err := os.MkdirTemp("", "jcds2-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "jcds2-uploader")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		return 1
	}
	if minio, err = jamfsim.StartMinIO(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the integration tests need MinIO:", err)
		return 1
	}
	code := s.m.Run()
	fmt.Printf("secrets: %d runs searched, 0 secrets found\n", secretsChecked.Load())
	minio.Stop()
	os.RemoveAll(dir)
	return code
}

type result struct {
	stdout, stderr []byte
	code           int
	env            processor.Env
}

// run runs the binary with stdin and args, S3 pointed at sim.
func runBin(t *testing.T, sim *jamfsim.Server, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), "JCDS2_TEST=1")
	if sim != nil {
		cmd.Env = append(cmd.Env, "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint())
	}
	r := runCmd(t, cmd)
	// Every run of every suite is searched for secrets.
	if sim != nil {
		secrets := append(sim.IssuedSecrets(), jamfsim.DefaultPassword, jamfsim.DefaultClientSecret)
		for _, s := range secrets {
			if bytes.Contains(r.stdout, []byte(s)) || bytes.Contains(r.stderr, []byte(s)) {
				t.Fatalf("a secret (%.6s...) reached stdout or stderr", s)
			}
		}
		secretsChecked.Add(1)
	}
	if r.code == 0 {
		env, _, derr := processor.DecodeEnv(r.stdout)
		if derr != nil && len(args) == 0 {
			t.Fatalf("stdout is not a plist: %v\n%s", derr, r.stdout)
		}
		r.env = env
	}
	return r
}

// runCmd runs cmd and returns what it printed and its exit code.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// processCmd is the binary in processor mode with env (binary plist) on
// stdin and S3 pointed at sim; stderr is collected in the buffer.
func processCmd(sim *jamfsim.Server, env processor.Env) (*exec.Cmd, *bytes.Buffer) {
	data, _ := processor.EncodeEnv(env, processor.FormatBinary)
	cmd := exec.Command(binary)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// runEnv encodes env in format and runs processor mode.
func runEnv(t *testing.T, sim *jamfsim.Server, env processor.Env, format processor.Format) result {
	t.Helper()
	data, err := processor.EncodeEnv(env, format)
	if err != nil {
		t.Fatal(err)
	}
	return runBin(t, sim, data)
}

// lastLine is the ProcessorError line.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(string(r.stderr), "\n"), "\n")
	return lines[len(lines)-1]
}

func newSim(t *testing.T, cfg jamfsim.Config) *jamfsim.Server {
	t.Helper()
	if cfg.S3 == nil {
		cfg.S3 = minio.Backend()
		cfg.Bucket = fmt.Sprintf("t%d", time.Now().UnixNano())
	}
	// Every simulator of every test validates every exchange against
	// Jamf's OpenAPI files (apicheck_test.go); JCDS2_APICHECK=0 turns it
	// off to tell a violation from the test's own failure.
	if cfg.Wrap == nil && os.Getenv("JCDS2_APICHECK") != "0" {
		cfg.Wrap = openAPIChecked(t, false)
	}
	s, err := jamfsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writePkg makes a package file of n pseudo-random bytes.
func writePkg(t *testing.T, dir, name string, n int, seed byte) string {
	t.Helper()
	data := make([]byte, n)
	x := uint32(seed) + 1
	for i := range data {
		x = x*1664525 + 1013904223
		data[i] = byte(x >> 24)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// baseEnv is what AutoPkg would pass: credentials, the package, a cache.
func baseEnv(t *testing.T, sim *jamfsim.Server, pkg string) processor.Env {
	return processor.Env{
		"JSS_URL":              sim.URL,
		"CLIENT_ID":            jamfsim.DefaultClientID,
		"CLIENT_SECRET":        jamfsim.DefaultClientSecret,
		"pkg_path":             pkg,
		"RECIPE_CACHE_DIR":     t.TempDir(),
		"NAME":                 "Example",
		"version":              "1.0",
		"jcds2_verify_timeout": "30",
	}
}

// runWith runs processor mode on env (binary plist) with extra
// environment variables, which win over the simulator's S3 endpoint.
func runWith(t *testing.T, sim *jamfsim.Server, env processor.Env, extra ...string) result {
	t.Helper()
	data, err := processor.EncodeEnv(env, processor.FormatBinary)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint()), extra...)
	return runCmd(t, cmd)
}
