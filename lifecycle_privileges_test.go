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
	r := runCmd(t, cmd)
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

// A Classic-only server (older than 11.5, no /api/v1/packages): the
// processor prunes through the Classic API: the case (8
// versions, one installed by a policy, one by a PreStage, keep 3) leaves
// exactly the right three deleted, records, JCDS files and share copies,
// and every other package as it was. Audit refuses in one line naming the
// version and what is supported, sending nothing but reads.
func TestLifecycleOnClassicOnlyServer(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{Version: "11.4.0"})
	s := seedTitle(t, sim, 8)
	sim.AddPolicy("Install App 1.1", 2)
	sim.AddPreStage("Lab", "4")
	url, packages := shareDir(t)
	for file, path := range s.files {
		data, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(packages, file), data, 0o644)
	}

	r := runLifecycleCLI(t, sim, "audit", "--url", sim.URL)
	last := r.lastLine()
	if r.code != processor.ExitFailed || !strings.Contains(last, "Jamf Pro 11.4.0 is older than 11.5: audit needs") || !strings.Contains(last, "prune works on this server") {
		t.Fatalf("audit: exit %d, last line %q\n%s", r.code, last, r.stderr)
	}
	for _, e := range sim.Log() {
		if e.Method != "GET" && !strings.Contains(e.Path, "/token") && !strings.Contains(e.Path, "invalidate") {
			t.Errorf("audit sent %s", e)
		}
	}

	sim.ResetLog()
	env := cleanEnv(sim)
	env["SMB_URL"] = url
	r = runCleanEnv(t, sim, env)
	if r.code != 0 {
		t.Fatalf("clean: exit %d\n%s", r.code, r.stderr)
	}
	log := string(r.stderr)
	for _, want := range []string{"through the Classic API", `in use  App-1.1 (id 2): installed by policy 1 "Install App 1.1"`, `in use  App-1.3 (id 4)`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	var deletes []string
	for _, e := range sim.Log() {
		if e.Method == "DELETE" && strings.HasPrefix(e.Path, "/api/v1/packages") {
			t.Errorf("a Jamf Pro API package request on a Classic-only server: %s", e)
		}
		if e.Method == "DELETE" && strings.HasPrefix(e.Path, "/JSSResource/packages/id/") && e.Status == 200 {
			deletes = append(deletes, e.Path)
		}
	}
	if got := strings.Join(deletes, ","); got != "/JSSResource/packages/id/5,/JSSResource/packages/id/3,/JSSResource/packages/id/1" {
		t.Errorf("Classic deletes: %s", got)
	}
	assertPruned(t, sim, s, "App-1.0.pkg", "App-1.2.pkg", "App-1.4.pkg")
	assertShareHolds(t, packages, "App-1.1.pkg,App-1.3.pkg,App-1.5.pkg,App-1.6.pkg,App-1.7.pkg,Apple-1.0.pkg,MyApp-1.0.pkg")
}
