package main

// Helpers both Python-facing tests share: `jcds2-uploader sim` as a
// subprocess (what README tells an admin to run) and the host's binary
// in a release layout.

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hostBinary is the bin/ file the shim picks on this machine.
func hostBinary(t *testing.T, procs string) string {
	t.Helper()
	tgt := target{runtime.GOOS, runtime.GOARCH}
	p := filepath.Join(procs, "bin", binFile(tgt))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("the release builds no binary for %s", tgt)
	}
	return p
}

// simulator is `jcds2-uploader sim`, as README tells an admin to start it.
type simulator struct {
	vars map[string]string // what it printed: JSS_URL, API_USERNAME, CLIENT_ID, ...
}

func startSim(t *testing.T, bin string) *simulator {
	t.Helper()
	cmd := exec.Command(bin, "sim", "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	// It prints its URL and test credentials as shell exports, then serves.
	want := []string{"JSS_URL", "API_USERNAME", "API_PASSWORD", "CLIENT_ID", "CLIENT_SECRET", "AWS_ENDPOINT_URL_S3"}
	ready := make(chan map[string]string, 1)
	go func() {
		vars, sent := map[string]string{}, false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sent {
				continue // drain
			}
			if _, exports, ok := strings.Cut(sc.Text(), "export "); ok {
				for _, kv := range strings.Fields(exports) {
					if k, v, ok := strings.Cut(kv, "="); ok {
						vars[k] = v
					}
				}
			}
			if len(vars) >= len(want) && !sent {
				ready <- vars
				sent = true
			}
		}
		if !sent {
			ready <- vars // it ended early: let the caller say what is missing
		}
	}()
	select {
	case vars := <-ready:
		for _, k := range want {
			if vars[k] == "" {
				t.Fatalf("jcds2-uploader sim did not print %s (got %v): %s", k, vars, stderr.String())
			}
		}
		return &simulator{vars: vars}
	case <-time.After(30 * time.Second):
		t.Fatalf("jcds2-uploader sim printed no URL in 30s: %s", stderr.String())
	}
	return nil
}
