package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint/sambatest"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// What a file share or the self-hosted S3 point holds is proven, not
// assumed, and nothing is claimed that is not true: through the binary,
// against a real smbd, MinIO and the simulator.

// holdProxy forwards TCP connections to target and can hold one: the
// n-th connection at accept (holdConn), or any connection once it has
// sent more than holdAfter bytes upstream. Held says it holds;
// Release lets it go on.
type holdProxy struct {
	ln        net.Listener
	target    string
	holdConn  int64
	holdAfter int64
	conns     atomic.Int64
	once      sync.Once
	held      chan struct{}
	release   chan struct{}
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{ln: ln, target: target, held: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); p.Release() })
	go p.serve()
	return p
}

func (p *holdProxy) Addr() string { return p.ln.Addr().String() }

// Release ends the hold (once).
func (p *holdProxy) Release() {
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

func (p *holdProxy) hold() {
	p.once.Do(func() { close(p.held) })
	<-p.release
}

func (p *holdProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		n := p.conns.Add(1)
		go func() {
			defer c.Close()
			if n == p.holdConn {
				p.hold()
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer up.Close()
			go io.Copy(c, up)
			var sent int64
			buf := make([]byte, 64<<10)
			for {
				k, err := c.Read(buf)
				if k > 0 {
					sent += int64(k)
					if p.holdAfter > 0 && sent > p.holdAfter {
						p.hold()
					}
					if _, werr := up.Write(buf[:k]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// machine starts the binary as another machine would run it (its own
// home, cache and run lock) with extra environment.
func machine(t *testing.T, sim *jamfsim.Server, env processor.Env, extra ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	data, err := processor.EncodeEnv(env, processor.FormatBinary)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(binary)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint(), "HOME="+home, "XDG_CACHE_HOME="+home), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

func waitHeld(t *testing.T, p *holdProxy, stderr *bytes.Buffer) {
	t.Helper()
	select {
	case <-p.held:
	case <-time.After(90 * time.Second):
		t.Fatalf("the run never reached the held point:\n%s", stderr)
	}
}

// rewrite changes the package in place, as a build still writing it.
func rewrite(t *testing.T, pkg string) {
	t.Helper()
	f, err := os.OpenFile(pkg, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("torn"), 1<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(pkg, later, later)
}

// noHashClaimed: no record names pkgName with a hash.
func noHashClaimed(t *testing.T, sim *jamfsim.Server, pkgName string) {
	t.Helper()
	for _, p := range sim.Packages() {
		if p.FileName == pkgName && deref(p.HashValue) != "" {
			t.Fatalf("a record claims a hash: %+v", p)
		}
	}
}

// recordDescribes: exactly one record names pkgName, with the SHA3-512
// of the file at path.
func recordDescribes(t *testing.T, sim *jamfsim.Server, pkgName, path string) {
	t.Helper()
	sha3, _, err := jamfsim.FileSHA3(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range sim.Packages() {
		if p.FileName != pkgName {
			continue
		}
		n++
		if !strings.EqualFold(deref(p.HashValue), sha3) {
			t.Fatalf("record %s claims %s %s, not the bytes of %s", p.ID, deref(p.HashType), deref(p.HashValue), path)
		}
	}
	if n != 1 {
		t.Fatalf("%d records name %s, want 1", n, pkgName)
	}
}

// A package rewritten while it is copied to a real SMB share: the copy
// never lands under the package's name, no record claims a hash, the
// run fails saying why; the next run copies the whole file and records
// its hash.
func TestTornCopyToSambaShareRecordsNothing(t *testing.T) {
	smb := sambatest.Start(t)
	sim := newSim(t, jamfsim.Config{})
	pkg := writePkg(t, t.TempDir(), "Torn.pkg", 24<<20, 71)
	proxy := newHoldProxy(t, smb.Addr)
	proxy.holdAfter = 4 << 20 // mid-copy
	env := baseEnv(t, sim, pkg)
	env["SMB_URL"], env["SMB_USERNAME"], env["SMB_PASSWORD"] = "smb://"+proxy.Addr()+"/pkgs", smb.User, smb.Password
	env["CLOUD_DP"] = "False"

	cmd, _, stderr := machine(t, sim, env)
	waitHeld(t, proxy, stderr)
	rewrite(t, pkg)
	proxy.Release()
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 10 || !strings.Contains(lastStderrLine(stderr.String()), "changed while it was being read") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(smb.Packages("pkgs"), "Torn.pkg")); !os.IsNotExist(err) {
		t.Fatalf("a torn copy landed under the package's name (%v)", err)
	}
	noHashClaimed(t, sim, "Torn.pkg")
	if strings.Contains(stderr.String(), smb.Password) {
		t.Fatal("the share password reached the log")
	}

	r := runDecoded(t, sim, env)
	if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("the next run: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	sameBytes(t, filepath.Join(smb.Packages("pkgs"), "Torn.pkg"), pkg)
	recordDescribes(t, sim, "Torn.pkg", pkg)
}

// The same on the self-hosted S3 point (aws_cdp_mode) in MinIO: the
// multipart upload is abandoned, no object, no hash claimed.
func TestTornUploadToSelfHostedS3RecordsNothing(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"})
	dir := t.TempDir()
	pkg := writePkg(t, dir, "TornS3.pkg", 48<<20, 72)
	proxy := newHoldProxy(t, strings.TrimPrefix(minio.URL, "http://"))
	proxy.holdAfter = 1 << 20 // every part's connection, mid-part
	env := baseEnv(t, sim, pkg)
	// Small parts, two at a time: the uploader reads a few parts ahead of
	// what it sends, and the sockets absorb some megabytes more; the
	// package is large enough that the change comes before its last byte
	// is read (a change after that would not touch what was sent).
	env["jcds2_part_size_mb"], env["jcds2_concurrency"] = "5", "2"
	env["aws_cdp_mode"] = "True"
	env["S3_BUCKET_NAME"] = sim.Config().Bucket
	aws := func(endpoint string) []string {
		return []string{"AWS_ENDPOINT_URL_S3=" + endpoint, "AWS_ACCESS_KEY_ID=" + minio.RootUser, "AWS_SECRET_ACCESS_KEY=" + minio.RootPassword,
			"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none")}
	}
	cmd, _, stderr := machine(t, sim, env, aws("http://"+proxy.Addr())...)
	waitHeld(t, proxy, stderr)
	rewrite(t, pkg)
	proxy.Release()
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 10 || !strings.Contains(lastStderrLine(stderr.String()), "changed while it was being read") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if files := sim.Files(); len(files) != 0 {
		t.Fatalf("a torn upload is in the bucket: %v", files)
	}
	noHashClaimed(t, sim, "TornS3.pkg")

	r := runDecoded(t, sim, env, aws(minio.URL)...)
	if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("the next run: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	assertConverged(t, sim, "TornS3.pkg", pkg)
}

// Two machines replace one package on one SMB share with different
// bytes. A copies; before A looks again, B replaces the file and writes
// the record. A then finds B's bytes where it put its own: it says it
// lost, writes nothing, and exits 0; share and record agree on B's.
func TestTwoWritersOnOneSambaShare(t *testing.T) {
	smb := sambatest.Start(t)
	sim := newSim(t, jamfsim.Config{})
	pkgA := writePkg(t, t.TempDir(), "Two.pkg", 4<<20, 73)
	pkgB := writePkg(t, t.TempDir(), "Two.pkg", 4<<20, 74)
	proxy := newHoldProxy(t, smb.Addr)
	proxy.holdConn = 3 // A's look after its copy: look, copy, look again
	share := func(env processor.Env, addr string) processor.Env {
		env["SMB_URL"], env["SMB_USERNAME"], env["SMB_PASSWORD"] = "smb://"+addr+"/pkgs", smb.User, smb.Password
		env["CLOUD_DP"], env["replace_pkg"] = "False", "True"
		return env
	}
	envA := share(baseEnv(t, sim, pkgA), proxy.Addr())
	cmdA, outA, errA := machine(t, sim, envA)
	waitHeld(t, proxy, errA)
	sameBytes(t, filepath.Join(smb.Packages("pkgs"), "Two.pkg"), pkgA)

	r := runDecoded(t, sim, share(baseEnv(t, sim, pkgB), smb.Addr))
	if r.code != 0 || r.env["pkg_upload_status"] != "uploaded, verified" {
		t.Fatalf("B: exit %d %v\n%s", r.code, r.env, r.stderr)
	}
	proxy.Release()
	if err := cmdA.Wait(); err != nil {
		t.Fatalf("A: %v\n%s", err, errA)
	}
	outEnv, _, err := processor.DecodeEnv(outA.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if st := outEnv["pkg_upload_status"]; st != "unchanged (another run's upload of other bytes won)" || !strings.Contains(errA.String(), "another run's bytes") {
		t.Fatalf("A: status %q\n%s", st, errA)
	}
	sameBytes(t, filepath.Join(smb.Packages("pkgs"), "Two.pkg"), pkgB)
	recordDescribes(t, sim, "Two.pkg", pkgB)
}
