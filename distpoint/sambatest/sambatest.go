// Package sambatest runs a real smbd on a loopback port for tests
// (distpoint's own, and the binary's in the repository root). It skips
// a test when smbd is not installed.
package sambatest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Server is a real smbd on a loopback port with a throwaway
// smb.conf, passdb and state under a temp dir. Shares: "pkgs" and
// "other" (writable, each with a Packages folder), "readonly", and
// "small" (an empty folder; see mountSmall).
type Server struct {
	T              *testing.T
	Addr           string // 127.0.0.1:port
	Root           string // share folders live in Root/<share>
	User, Password string
	Conf, log      string
	cmd            *exec.Cmd
}

// Start skips the test only when smbd is not installed (CI
// installs Debian's samba package; see .ci/run).
func Start(t *testing.T) *Server {
	t.Helper()
	smbd, err := exec.LookPath("smbd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/smbd"); serr != nil {
			t.Skip("smbd is not installed (Debian: apt-get install -y samba); skipping the SMB tests")
		}
		smbd = "/usr/sbin/smbd"
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{T: t, Root: filepath.Join(dir, "shares"), User: u.Username, Password: "dp-pass-" + randomHex(),
		Conf: filepath.Join(dir, "smb.conf"), log: filepath.Join(dir, "smbd.log")}
	for _, d := range []string{"priv", "lock", "state", "cache", "pid", "shares/pkgs/Packages", "shares/other/Packages", "shares/readonly/Packages", "shares/small"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.Addr = FreeLoopbackPort(t)
	_, port, _ := net.SplitHostPort(s.Addr)
	conf := fmt.Sprintf(`[global]
  smb ports = %[2]s
  interfaces = 127.0.0.1
  bind interfaces only = yes
  server role = standalone server
  passdb backend = tdbsam:%[1]s/priv/passdb.tdb
  private dir = %[1]s/priv
  lock directory = %[1]s/lock
  state directory = %[1]s/state
  cache directory = %[1]s/cache
  pid directory = %[1]s/pid
  ncalrpc dir = %[1]s/pid/ncalrpc
  log file = %[1]s/smbd.log
  log level = 1
  disable netbios = yes
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2_02
  map to guest = Never
[pkgs]
  path = %[1]s/shares/pkgs
  read only = no
[other]
  path = %[1]s/shares/other
  read only = no
[readonly]
  path = %[1]s/shares/readonly
  read only = yes
[small]
  path = %[1]s/shares/small
  read only = no
`, dir, port)
	if err := os.WriteFile(s.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// The password goes in on stdin, twice, as smbpasswd -s wants it.
	add := exec.Command("smbpasswd", "-c", s.Conf, "-a", "-s", s.User)
	add.Stdin = strings.NewReader(s.Password + "\n" + s.Password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("smbpasswd -a %s: %v\n%s", s.User, err, out)
	}
	s.start(smbd)
	t.Cleanup(s.Kill)
	return s
}

func (s *Server) start(smbd string) {
	s.T.Helper()
	s.cmd = exec.Command(smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s", s.Conf)
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.T.Fatal(err)
	}
	defer logf.Close()
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group, so Kill ends the per-connection children too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.T.Fatalf("starting smbd: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.log)
	s.Kill()
	s.T.Fatalf("smbd did not listen on %s within 20s:\n%s", s.Addr, log)
}

// Restart starts smbd again on the same port and state.
func (s *Server) Restart() {
	s.Kill()
	s.start(s.cmd.Path)
}

// Kill ends smbd and every child it forked, and waits for it.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd.Wait()
}

// Signal sends sig to smbd's whole process group (SIGSTOP: a server
// that stops answering without closing the connection).
func (s *Server) Signal(sig syscall.Signal) {
	syscall.Kill(-s.cmd.Process.Pid, sig)
}

// URL is the smb:// URL of a share.
func (s *Server) URL(share string) string { return "smb://" + s.Addr + "/" + share }

// Packages is the Packages folder of a share on disk.
func (s *Server) Packages(share string) string {
	return filepath.Join(s.Root, share, "Packages")
}

// FreeLoopbackPort returns a loopback address nothing listens on yet.
func FreeLoopbackPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
