package main

// `jcds2-uploader sim` as a subprocess (what README tells an admin to
// run), for the Python-facing tests, and what Jamf Pro holds.

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

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

// api calls the Jamf Pro API of the simulator with a fresh token.
func (s *simulator) api(t *testing.T, method, path string, into any) {
	t.Helper()
	tok := s.token(t)
	req, _ := http.NewRequest(method, s.vars["JSS_URL"]+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// token mints a bearer token with the simulator's user and password.
func (s *simulator) token(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.vars["JSS_URL"]+"/api/v1/auth/token", nil)
	req.SetBasicAuth(s.vars["API_USERNAME"], s.vars["API_PASSWORD"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		t.Fatalf("minting a token: %s %v", resp.Status, err)
	}
	return tok.Token
}

type simPackage struct{ ID, PackageName, FileName, CategoryID string }
type simFile struct{ FileName, MD5 string }

// state is what Jamf Pro holds: package records and JCDS files.
func (s *simulator) state(t *testing.T) ([]simPackage, []simFile) {
	t.Helper()
	var pkgs struct{ Results []simPackage }
	s.api(t, "GET", "/api/v1/packages?page-size=200", &pkgs)
	var files []simFile
	s.api(t, "GET", "/api/v1/jcds/files", &files)
	return pkgs.Results, files
}

// expectOne checks Jamf Pro holds exactly one record and one file for
// name, the file with these bytes, and returns the record.
func (s *simulator) expectOne(t *testing.T, name string, content []byte) simPackage {
	t.Helper()
	pkgs, files := s.state(t)
	var rec []simPackage
	for _, p := range pkgs {
		if strings.HasPrefix(p.FileName, strings.TrimSuffix(name, ".pkg")) {
			rec = append(rec, p)
		}
	}
	var fl []simFile
	for _, f := range files {
		if strings.HasPrefix(f.FileName, strings.TrimSuffix(name, ".pkg")) {
			fl = append(fl, f)
		}
	}
	want := md5.Sum(content)
	if len(rec) != 1 || len(fl) != 1 || rec[0].FileName != name || fl[0].FileName != name || fl[0].MD5 != hex.EncodeToString(want[:]) {
		t.Fatalf("Jamf Pro should hold one record and one file %s with md5 %x; records %+v, files %+v", name, want, rec, fl)
	}
	return rec[0]
}
