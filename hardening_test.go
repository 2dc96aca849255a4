package main

import (
	"bytes"
	"context"
	bin "encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/lock"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Hardening (issue #14): hostile input of every class ends in exit 10
// and one ProcessorError line, quickly, and never in a Go stack trace.

// wantOneLine checks the processor contract on failure.
func wantOneLine(t *testing.T, name string, r result, prefix string, took time.Duration) {
	t.Helper()
	if r.code != 10 || !strings.HasPrefix(r.lastLine(), "ProcessorError: "+prefix) || strings.Count(string(r.stderr), "\n") != 1 || len(r.stdout) != 0 {
		t.Fatalf("%s: exit %d, stdout %d bytes, stderr:\n%.2000s\nwant one line starting ProcessorError: %s", name, r.code, len(r.stdout), r.stderr, prefix)
	}
	if took > 20*time.Second {
		t.Fatalf("%s: took %s", name, took)
	}
}

// hostileBplist is a binary plist {"k": v} where v is built by add from
// raw objects (4-byte references), so it can hold cycles and sharing.
func hostileBplist(build func(add func(o []byte) uint32, set func(i uint32, o []byte)) uint32) []byte {
	var objs [][]byte
	add := func(o []byte) uint32 { objs = append(objs, o); return uint32(len(objs) - 1) }
	set := func(i uint32, o []byte) { objs[i] = o }
	v := build(add, set)
	k := add([]byte{0x51, 'k'})
	top := add(bin.BigEndian.AppendUint32(bin.BigEndian.AppendUint32([]byte{0xD1}, k), v))
	out := []byte("bplist00")
	var table []byte
	for _, o := range objs {
		table = bin.BigEndian.AppendUint32(table, uint32(len(out)))
		out = append(out, o...)
	}
	tr := make([]byte, 32)
	tr[6], tr[7] = 4, 4
	bin.BigEndian.PutUint64(tr[8:], uint64(len(objs)))
	bin.BigEndian.PutUint64(tr[16:], uint64(top))
	bin.BigEndian.PutUint64(tr[24:], uint64(len(out)))
	return append(append(out, table...), tr...)
}

func bpList(refs ...uint32) []byte {
	o := []byte{0xAF, 0x12}
	o = bin.BigEndian.AppendUint32(o, uint32(len(refs)))
	for _, r := range refs {
		o = bin.BigEndian.AppendUint32(o, r)
	}
	return o
}

func TestHostilePlistsEndInOneLine(t *testing.T) {
	deepXML := func(n int) []byte {
		return []byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>k</key>` + strings.Repeat("<array>", n) + strings.Repeat("</array>", n) + "</dict></plist>")
	}
	var manyKeys strings.Builder
	manyKeys.WriteString(`<?xml version="1.0"?><plist version="1.0"><dict>`)
	for i := range 1_500_000 {
		fmt.Fprintf(&manyKeys, "<key>k%d</key><string>v</string>", i)
	}
	manyKeys.WriteString("</dict></plist>")
	cases := []struct {
		name   string
		stdin  []byte
		prefix string
	}{
		{"1M-deep XML", deepXML(1_000_000), "stdin plist nests lists and dictionaries more than 64 levels deep"},
		{"90k-deep binary", hostileBplist(func(add func([]byte) uint32, _ func(uint32, []byte)) uint32 {
			v := add([]byte{0x51, 'x'})
			for range 90_000 {
				v = add(bpList(v))
			}
			return v
		}), "stdin plist nests lists and dictionaries more than 64 levels deep"},
		{"cyclic binary", hostileBplist(func(add func([]byte) uint32, set func(uint32, []byte)) uint32 {
			a, b := add(nil), add(nil)
			set(a, bpList(b))
			set(b, bpList(a))
			return a
		}), "stdin is not a valid binary plist (a list or dictionary contains itself)"},
		{"shared binary, 2^60 objects", hostileBplist(func(add func([]byte) uint32, _ func(uint32, []byte)) uint32 {
			v := add([]byte{0x51, 'x'})
			for range 60 {
				v = add(bpList(v, v))
			}
			return v
		}), "stdin plist holds more than 100000 keys and values"},
		{"1.5M keys", []byte(manyKeys.String()), "stdin plist holds more than 100000 keys and values"},
	}
	for _, c := range cases {
		start := time.Now()
		r := runBin(t, nil, c.stdin)
		wantOneLine(t, c.name, r, c.prefix, time.Since(start))
	}

	// The key=value mode has the same bounds.
	args := make([]string, processor.MaxObjects+1)
	for i := range args {
		args[i] = fmt.Sprintf("k%d=v", i)
	}
	start := time.Now()
	wantOneLine(t, "100001 arguments", runBin(t, nil, nil, args...), "100001 key=value arguments are more than 100000", time.Since(start))
	chain := []string{"a0=" + strings.Repeat("x", 4096)}
	for i := 1; i <= 30; i++ {
		chain = append(chain, fmt.Sprintf("a%d=%%a%d%%%%a%d%%", i, i-1, i-1))
	}
	start = time.Now()
	wantOneLine(t, "doubling arguments", runBin(t, nil, nil, chain...), "the key=value arguments add up to more than 64 MiB", time.Since(start))
}

type uploaderFunc func(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error)

func (f uploaderFunc) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	return f(ctx, req, log)
}

// The soft memory limit is for the upload's part buffers; input parsing
// runs without it, so a large env never makes the collector thrash.
func TestMemoryLimitStartsWithTheUpload(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set")
	}
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)
	// Processor mode that fails in decoding leaves the limit alone.
	var stdout, stderr strings.Builder
	if code := run(nil, strings.NewReader("not a plist"), &stdout, &stderr); code != 10 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("decoding ran under a memory limit of %d", got)
	}
	// The upload runs under it.
	var during int64
	up := memoryLimited{uploaderFunc(func(context.Context, *jcds2.Request, jcds2.Logger) (*jcds2.Result, error) {
		during = debug.SetMemoryLimit(-1)
		return &jcds2.Result{}, nil
	})}
	if _, err := up.Upload(context.Background(), &jcds2.Request{}, nil); err != nil || during != uploadMemoryLimit {
		t.Fatalf("limit during the upload: %d (%v)", during, err)
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
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every input that becomes a header or a URL is checked before any
// request: the binary's exit code and its one line are the contract.
func TestHeaderAndURLInputsFailBeforeAnyRequest(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Hdr.pkg", 1000, 3)
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl"
	cases := []struct {
		name  string
		edit  func(processor.Env)
		extra []string
		want  string
	}{
		{"newline in BEARER_TOKEN", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["BEARER_TOKEN"] = token + "\n"
		}, nil, "ProcessorError: BEARER_TOKEN contains a line break: remove it"},
		{"CR LF in API_PASSWORD", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["API_USERNAME"], e["API_PASSWORD"] = "admin", "hunter2-long\r\nX-Injected: 1"
		}, nil, "ProcessorError: API_PASSWORD contains a line break: remove it"},
		{"NUL in CLIENT_SECRET", func(e processor.Env) { e["CLIENT_SECRET"] = jamfsim.DefaultClientSecret + "\x00" }, nil,
			"ProcessorError: CLIENT_SECRET contains a NUL byte: remove it"},
		{"colon in API_USERNAME", func(e processor.Env) {
			delete(e, "CLIENT_ID")
			delete(e, "CLIENT_SECRET")
			e["API_USERNAME"], e["API_PASSWORD"] = "ad:min", "pw-long-enough"
		}, nil, `ProcessorError: API_USERNAME "ad:min" contains a colon`},
		{"space in JSS_URL host", func(e processor.Env) { e["JSS_URL"] = "https://jamf example.com" }, nil,
			`ProcessorError: JSS_URL "https://jamf example.com" is not a valid URL`},
		{"plain http S3 input", func(e processor.Env) { e["jcds2_s3_endpoint"] = "http://s3.example.com:9000" }, nil,
			`ProcessorError: jcds2_s3_endpoint "http://s3.example.com:9000" uses plain http: use https, or set insecure_mode to True if you really mean it`},
		{"plain http AWS_ENDPOINT_URL_S3", nil, []string{"AWS_ENDPOINT_URL_S3=http://s3.example.com:9000"},
			`ProcessorError: AWS_ENDPOINT_URL_S3 (from the environment) "http://s3.example.com:9000" uses plain http`},
		{"plain http AWS_ENDPOINT_URL", nil, []string{"AWS_ENDPOINT_URL_S3=", "AWS_ENDPOINT_URL=http://s3.example.com:9000"},
			`ProcessorError: AWS_ENDPOINT_URL (from the environment) "http://s3.example.com:9000" uses plain http`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim.ResetLog()
			env := baseEnv(t, sim, pkg)
			if c.edit != nil {
				c.edit(env)
			}
			r := runWith(t, sim, env, c.extra...)
			wantOneLine(t, c.name, r, strings.TrimPrefix(c.want, "ProcessorError: "), 0)
			for _, s := range []string{token[20:], "hunter2", jamfsim.DefaultClientSecret} {
				if bytes.Contains(r.stderr, []byte(s)) {
					t.Fatalf("the secret reached stderr: %s", r.stderr)
				}
			}
			if log := sim.Log(); len(log) != 0 {
				t.Fatalf("bad input must fail before any request: %v", log)
			}
		})
	}
}

func makeBundleAt(t *testing.T, dir, name string) string {
	t.Helper()
	b := filepath.Join(dir, name)
	os.MkdirAll(filepath.Join(b, "Contents", "Resources", "en.lproj"), 0o755)
	os.WriteFile(filepath.Join(b, "Contents", "Info.plist"), []byte("<plist/>"), 0o644)
	os.WriteFile(filepath.Join(b, "Contents", "Archive.pax.gz"), make([]byte, 200<<10), 0o644)
	os.WriteFile(filepath.Join(b, "Contents", "Resources", "en.lproj", "Description.txt"), []byte("hi"), 0o644)
	return b
}

// A pkg_path that is a link to a bundle uploads the bundle's zip (it used
// to upload a 172-byte zip of the link, reported verified); a link inside
// the bundle that stays inside is kept; one that escapes fails first.
func TestBundleSymlinksEndToEnd(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	bundle := makeBundleAt(t, t.TempDir(), "Real-2.0.pkg")
	os.Symlink("en.lproj", filepath.Join(bundle, "Contents", "Resources", "English.lproj"))
	link := filepath.Join(t.TempDir(), "Fluffy.pkg")
	if err := os.Symlink(bundle, link); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(t, sim, link)
	out := mustRun(t, sim, env)
	zipPath := filepath.Join(env["RECIPE_CACHE_DIR"].(string), "jcds2-uploader-bundles", "Fluffy.pkg.zip")
	st, err := os.Stat(zipPath)
	if err != nil || st.Size() < 1000 || out["pkg_name"] != "Fluffy.pkg.zip" {
		t.Fatalf("zip %v %v, outputs %v", st, err, out)
	}
	assertConverged(t, sim, "Fluffy.pkg.zip", zipPath)

	// An escaping link: exit 10, one line naming it, no request.
	os.Symlink("../../../../etc", filepath.Join(bundle, "Contents", "Resources", "escape"))
	sim.ResetLog()
	r := runEnv(t, sim, baseEnv(t, sim, link), processor.FormatBinary)
	wantOneLine(t, "escaping link", r, `pkg_path bundle "`+bundle+`" holds a symbolic link "Contents/Resources/escape" -> "../../../../etc" that points outside the bundle`, 0)
	if log := sim.Log(); len(log) != 0 {
		t.Fatalf("requests before the bundle was checked: %v", log)
	}
}

// Without a cache directory the zip goes to the user's cache, never
// beside the bundle: a file of the zip's name there survives.
func TestBundleZipNeverLandsBesideTheBundle(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	src := t.TempDir()
	bundle := makeBundleAt(t, src, "Fluffy.pkg")
	precious := filepath.Join(src, "Fluffy.pkg.zip")
	os.WriteFile(precious, []byte("mine"), 0o644)
	userCache := t.TempDir()
	env := baseEnv(t, sim, bundle)
	delete(env, "RECIPE_CACHE_DIR")
	r := runWith(t, sim, env, "XDG_CACHE_HOME="+userCache, "HOME="+userCache)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(precious); string(data) != "mine" {
		t.Fatal("the user's Fluffy.pkg.zip was overwritten")
	}
	if es, _ := os.ReadDir(src); len(es) != 2 {
		t.Fatalf("files appeared beside the bundle: %v", es)
	}
	cached, _ := filepath.Glob(filepath.Join(userCache, "*", "jcds2-uploader", "jcds2-uploader-bundles", "Fluffy.pkg.zip"))
	if more, _ := filepath.Glob(filepath.Join(userCache, "jcds2-uploader", "jcds2-uploader-bundles", "Fluffy.pkg.zip")); len(more) == 1 {
		cached = append(cached, more...)
	}
	if len(cached) != 1 {
		t.Fatalf("the zip is not in the user's cache %s", userCache)
	}
	assertConverged(t, sim, "Fluffy.pkg.zip", cached[0])
}

// Two processes, one upload: while another process (this test) holds the
// run lock for the same server and file name, the binary says who holds
// it and waits, making no request; it goes on when the lock is released,
// and an interrupt while it waits ends in one line with nothing changed.
func TestSecondRunWaitsForTheFirst(t *testing.T) {
	cacheHome := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheHome) // the child inherits both
	t.Setenv("HOME", cacheHome)
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Lock.pkg", 1<<20, 9)
	dir := processor.RunLockDirs("")[0]
	key := processor.RunLockKey(sim.URL, "Lock.pkg")
	wantWait := fmt.Sprintf("JCDS2PackageUploader: another jcds2-uploader run is uploading Lock.pkg to %s (pid %d since ", sim.URL, os.Getpid())

	start := func() (*exec.Cmd, *syncBuffer) {
		cmd, _ := processCmd(sim, baseEnv(t, sim, pkg))
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), wantWait); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the second run did not say it waits:\n%s", stderr.String())
			}
		}
		time.Sleep(200 * time.Millisecond)
		if log := sim.Log(); len(log) != 0 {
			t.Fatalf("requests while waiting: %v", log)
		}
		return cmd, &stderr
	}

	release, err := lock.Acquire(context.Background(), dir, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd, stderr := start()
	release()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after the lock was released: %v\n%s", err, stderr.String())
	}
	assertConverged(t, sim, "Lock.pkg", pkg)

	sim.ResetLog()
	release, err = lock.Acquire(context.Background(), dir, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cmd, stderr = start()
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	want := "ProcessorError: interrupted while waiting for another jcds2-uploader run to finish uploading Lock.pkg to " + sim.URL + ": nothing was changed; run again"
	if !ok || ee.ExitCode() != 10 || lines[len(lines)-1] != want || len(lines) != 2 {
		t.Fatalf("interrupted while waiting: %v\n%s", err, stderr.String())
	}
	if log := sim.Log(); len(log) != 0 {
		t.Fatalf("requests after an interrupt while waiting: %v", log)
	}
}

// syncBuffer is a bytes.Buffer a test can read while a process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
