package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// runLifecycleCLI runs a subcommand with CLIENT_ID/CLIENT_SECRET for sim and
// returns whatever it exits with.
func runLifecycleCLI(t *testing.T, sim *jamfsim.Server, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "CLIENT_ID="+jamfsim.DefaultClientID, "CLIENT_SECRET="+jamfsim.DefaultClientSecret)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r.stderr, []byte(jamfsim.DefaultClientSecret)) || bytes.Contains(r.stdout, []byte(jamfsim.DefaultClientSecret)) {
		t.Fatal("the client secret reached the output")
	}
	return r
}

func without(all []string, drop string) []string {
	var out []string
	for _, p := range all {
		if p != drop {
			out = append(out, p)
		}
	}
	return out
}

// A role lacking one privilege a lifecycle read or delete needs: the run
// stops in one line naming Jamf's privilege (as the OpenAPI files'
// x-required-privileges spell it) and where to add it, exit 10 from the
// processor and 1 from the command, and the repository is as it was:
// every record, its JCDS file and its copy on the file share. The delete
// privileges are found by a probe before the first delete, not after a
// package lost its copies.
func TestLifecyclePrivilegeRefusals(t *testing.T) {
	for _, c := range []struct {
		missing string
		cli     []string // empty: the JCDS2PackageCleaner processor
	}{
		{jamfsim.PrivDeletePackages, nil},
		{jamfsim.PrivDeleteJCDSFiles, nil},
		{jamfsim.PrivReadPreStages, nil},
		{jamfsim.PrivDeletePackages, []string{"prune", "--match", "App-", "--keep", "3"}},
		{jamfsim.PrivReadPolicies, []string{"prune", "--match", "App-", "--keep", "3"}},
		{jamfsim.PrivReadPatchTitles, []string{"audit"}},
		{jamfsim.PrivReadPackages, []string{"audit", "--json"}},
	} {
		name := "processor"
		if c.cli != nil {
			name = c.cli[0]
		}
		t.Run(name+" without "+c.missing, func(t *testing.T) {
			sim := newCheckedSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: without(jamfsim.AllPrivileges, c.missing)}})
			s := seedTitle(t, sim, 8)
			url, packages := shareDir(t)
			for file, path := range s.files {
				data, _ := os.ReadFile(path)
				os.WriteFile(filepath.Join(packages, file), data, 0o644)
			}
			var r result
			hint := "add it to the API role of the client in "
			if c.cli == nil {
				env := cleanEnv(sim)
				env["SMB_URL"] = url
				r = runCleanEnv(t, sim, env)
				hint += "CLIENT_ID and CLIENT_SECRET"
			} else {
				r = runLifecycleCLI(t, sim, append(c.cli, "--url", sim.URL, "--key", "SMB_URL="+url)...)
				hint += "--clientid (or CLIENT_ID) and CLIENT_SECRET"
			}
			want := processor.ExitProcessorError
			if c.cli != nil {
				want = processor.ExitFailed
			}
			last := r.lastLine()
			if r.code != want || !strings.Contains(last, `the account lacks the "`+c.missing+`" privilege`) || !strings.Contains(last, hint) {
				t.Fatalf("exit %d (want %d), last line %q\n%s", r.code, want, last, r.stderr)
			}
			if n := strings.Count(string(r.stderr), `"`+c.missing+`" privilege`); n != 1 {
				t.Errorf("the privilege is named %d times, want once:\n%s", n, r.stderr)
			}
			t.Logf("%s", last)
			assertPruned(t, sim, s) // every record and JCDS file as it was
			left, _ := filepath.Glob(filepath.Join(packages, "*"))
			if len(left) != len(s.files) {
				t.Fatalf("%d copies left on the share, want all %d", len(left), len(s.files))
			}
		})
	}
}

// A Classic-only server (older than 11.5, no /api/v1/packages): prune,
// the processor and audit refuse in one line naming the server's version
// and what is supported, and nothing on the server changes.
func TestLifecycleRefusesClassicOnlyServer(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{Version: "11.4.0"})
	s := seedTitle(t, sim, 8)
	sim.AddPolicy("Install App 1.1", 2)
	runs := []struct {
		name string
		run  func() result
		code int
	}{
		{"processor", func() result { return runCleanEnv(t, sim, cleanEnv(sim)) }, processor.ExitProcessorError},
		{"prune", func() result {
			return runLifecycleCLI(t, sim, "prune", "--match", "App-", "--keep", "3", "--url", sim.URL)
		}, processor.ExitFailed},
		{"audit", func() result { return runLifecycleCLI(t, sim, "audit", "--url", sim.URL) }, processor.ExitFailed},
	}
	for _, c := range runs {
		sim.ResetLog()
		r := c.run()
		last := r.lastLine()
		if r.code != c.code || !strings.Contains(last, "Jamf Pro 11.4.0 is older than 11.5") || !strings.Contains(last, "prune and audit need") {
			t.Fatalf("%s: exit %d (want %d), last line %q\n%s", c.name, r.code, c.code, last, r.stderr)
		}
		for _, e := range sim.Log() {
			if e.Method != "GET" && !strings.Contains(e.Path, "/token") && !strings.Contains(e.Path, "invalidate") {
				t.Errorf("%s sent %s", c.name, e)
			}
		}
	}
	assertPruned(t, sim, s)
}
