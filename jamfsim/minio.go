package jamfsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// MinIOModule is the pinned MinIO build the tests and CI use
// (github.com/minio/minio has no semver tags; this is its last commit).
const MinIOModule = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIOProcess is a MinIO server on a loopback port with a temporary
// data directory.
type MinIOProcess struct {
	URL, RootUser, RootPassword string
	cmd                         *exec.Cmd
	dir                         string
}

var installOnce sync.Once
var installErr error

// MinIOBinary finds the minio binary: $MINIO_BIN, then PATH, then
// $(go env GOPATH)/bin. With install it runs `go install` of the pinned
// module when none is found (minutes on a fresh machine, cached after).
func MinIOBinary(install bool) (string, error) {
	if p := os.Getenv("MINIO_BIN"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	gopath := goEnv("GOPATH")
	bin := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "minio")
	if gobin := goEnv("GOBIN"); gobin != "" {
		bin = filepath.Join(gobin, "minio")
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if !install {
		return "", fmt.Errorf("minio not found: run `go install %s` or set MINIO_BIN", MinIOModule)
	}
	installOnce.Do(func() {
		cmd := exec.Command("go", "install", MinIOModule)
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = fmt.Errorf("go install %s: %v\n%s", MinIOModule, err, out)
		}
	})
	if installErr != nil {
		return "", installErr
	}
	return bin, nil
}

func goEnv(key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartMinIO starts MinIO (installing it if needed) and waits until it
// answers. Stop it with Stop.
func StartMinIO() (*MinIOProcess, error) {
	bin, err := MinIOBinary(true)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "jcds2-minio-")
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	console, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &MinIOProcess{URL: "http://" + addr, RootUser: "jcds2root", RootPassword: "jcds2root-" + randomHex(8), dir: dir}
	m.cmd = exec.Command(bin, "server", "--quiet", "--address", addr, "--console-address", console, filepath.Join(dir, "data"))
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.RootUser, "MINIO_ROOT_PASSWORD="+m.RootPassword, "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	logf, _ := os.Create(filepath.Join(dir, "minio.log"))
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting minio: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(m.URL + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(filepath.Join(dir, "minio.log"))
			m.Stop()
			return nil, errors.New("minio did not become ready in 60s: " + string(log))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Backend returns the simulator storage backed by this MinIO.
func (m *MinIOProcess) Backend() *MinIO {
	return NewMinIOBackend(m.URL, m.RootUser, m.RootPassword)
}

// Stop kills MinIO and removes its data.
func (m *MinIOProcess) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
	os.RemoveAll(m.dir)
}
