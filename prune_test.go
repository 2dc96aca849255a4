package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// A seeded title: App-1.0 ... App-1.7 (ids 1 to 8), each a converged
// record with its file, plus neighbours the prefix must not catch.
type seeded struct {
	dir   string
	files map[string]string // fileName -> local path
}

func seedTitle(t *testing.T, sim *jamfsim.Server, n int) *seeded {
	t.Helper()
	s := &seeded{dir: t.TempDir(), files: map[string]string{}}
	add := func(name string, seed byte) {
		file := name + ".pkg"
		path := writePkg(t, s.dir, file, 4096, seed)
		sha3, size, err := jamfsim.FileSHA3(path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if err := sim.PutFile(context.Background(), file, data); err != nil {
			t.Fatal(err)
		}
		ht, sz := "SHA3_512", fmt.Sprint(size)
		sim.AddPackage(jamfsim.Package{PackageName: name, FileName: file, CategoryID: "-1", Priority: 10,
			HashType: &ht, HashValue: &sha3, Size: &sz, CloudTransferStatus: "READY"})
		s.files[file] = path
	}
	for i := 0; i < n; i++ {
		add(fmt.Sprintf("App-1.%d", i), byte(i))
	}
	add("Apple-1.0", 50)
	add("MyApp-1.0", 51)
	return s
}

// assertPruned: the deleted packages have neither record nor file; every
// other seeded package still converges (record, file, hash) by the oracle.
func assertPruned(t *testing.T, sim *jamfsim.Server, s *seeded, gone ...string) {
	t.Helper()
	isGone := map[string]bool{}
	for _, g := range gone {
		isGone[g] = true
	}
	files := sim.Files()
	for file, path := range s.files {
		if !isGone[file] {
			assertState(t, sim, file, path)
			continue
		}
		if _, ok := files[file]; ok {
			t.Errorf("%s: the file is still on the distribution point", file)
		}
		for _, p := range sim.Packages() {
			if p.FileName == file {
				t.Errorf("%s: record %s is still there", file, p.ID)
			}
		}
	}
	if want := len(s.files) - len(gone); len(sim.Packages()) != want || len(files) != want {
		t.Errorf("%d records and %d files, want %d of each", len(sim.Packages()), len(files), want)
	}
}

func cleanEnv(sim *jamfsim.Server) processor.Env {
	return processor.Env{
		"JSS_URL": sim.URL, "CLIENT_ID": jamfsim.DefaultClientID, "CLIENT_SECRET": jamfsim.DefaultClientSecret,
		"NAME": "App", "versions_to_keep": "3",
	}
}

func runCleanEnv(t *testing.T, sim *jamfsim.Server, env processor.Env) result {
	t.Helper()
	data, err := processor.EncodeEnv(env, processor.FormatBinary)
	if err != nil {
		t.Fatal(err)
	}
	return runBin(t, sim, data, "clean")
}

// The case: 8 versions, one used by a policy, one by a PreStage
// (and a patch title), versions_to_keep 3: the dry run changes nothing;
// the run deletes exactly 1.0, 1.2 and 1.4, records and files, and names
// the two it kept because they are in use. Every exchange is validated
// against Jamf's OpenAPI files.
func TestPruneKeepsNewestAndInUse(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{})
	s := seedTitle(t, sim, 8)
	sim.AddPolicy("Install App 1.1", 2)
	sim.AddPreStage("Lab", "4")
	sim.AddPatchTitle("App", jamfsim.PatchPackage{PackageID: "4", Version: "1.3"})

	env := cleanEnv(sim)
	env["dry_run"] = true
	r := runCleanEnv(t, sim, env)
	if r.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	assertPruned(t, sim, s)
	if _, ok := r.env[processor.CleanerSummaryKey]; ok || !strings.Contains(string(r.stderr), "3 to delete") {
		t.Fatalf("a dry run prints the plan and writes no summary:\n%s", r.stderr)
	}

	r = runCleanEnv(t, sim, cleanEnv(sim))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertPruned(t, sim, s, "App-1.0.pkg", "App-1.2.pkg", "App-1.4.pkg")
	log := string(r.stderr)
	for _, want := range []string{
		`JCDS2PackageCleaner: Plan for "App-": 8 matching, 3 kept as newest, 2 kept because in use, 3 to delete`,
		`in use  App-1.1 (id 2): installed by policy 1 "Install App 1.1"`,
		`in use  App-1.3 (id 4): installed by PreStage 1 "Lab", patch title 1 "App" version 1.3`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Index(log, "Plan for") > strings.Index(log, "Deleted ") {
		t.Errorf("the plan must be printed before any delete:\n%s", log)
	}
	sum, _ := r.env[processor.CleanerSummaryKey].(map[string]any)
	data, _ := sum["data"].(map[string]any)
	if data["deleted"] != "3" || data["found_matches"] != "8" || data["kept_in_use"] != "2" || data["pkg_name_match"] != "App-" {
		t.Fatalf("summary: %v", sum)
	}
	// A second run has nothing left to do.
	r = runCleanEnv(t, sim, cleanEnv(sim))
	if r.code != 0 || !strings.Contains(string(r.stderr), "0 to delete") {
		t.Fatalf("re-run: exit %d\n%s", r.code, r.stderr)
	}
	assertPruned(t, sim, s, "App-1.0.pkg", "App-1.2.pkg", "App-1.4.pkg")
}

// The failsafes stop before any delete, exit 10, and name the input.
func TestPruneFailsafes(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{})
	s := seedTitle(t, sim, 8)
	for _, tc := range []struct {
		key, val, want string
	}{
		{"maximum_allowed_packages_to_delete", "4", "the plan deletes 5 packages, more than maximum_allowed_packages_to_delete (4); nothing deleted: change maximum_allowed_packages_to_delete if this is what you want"},
		{"pkg_name_match", "Ap", `pkg_name_match "Ap" is shorter than minimum_name_length (3 characters)`},
		{"prune_order", "date", `prune_order is "date": use id or version`},
	} {
		env := cleanEnv(sim)
		env[tc.key] = tc.val
		r := runCleanEnv(t, sim, env)
		if r.code != processor.ExitProcessorError || !strings.Contains(r.lastLine(), tc.want) {
			t.Errorf("%s=%s: exit %d, last line %q", tc.key, tc.val, r.code, r.lastLine())
		}
	}
	assertPruned(t, sim, s)
	for _, e := range sim.Log() {
		if e.Method == "DELETE" {
			t.Fatalf("a stopped run sent %s", e)
		}
	}
}

// prune --unused: every App- package nothing installs goes, whatever its
// age; the plan is written as CSV.
func TestPruneUnusedWritesCSV(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{})
	s := seedTitle(t, sim, 8)
	sim.AddPolicy("Install App 1.1", 2)
	sim.AddPreStage("Lab", "8")
	out := t.TempDir()
	cmd := exec.Command(binary, "prune", "--unused", "--match", "App-", "--output-dir", out, "--url", sim.URL)
	cmd.Env = append(os.Environ(), "CLIENT_ID="+jamfsim.DefaultClientID, "CLIENT_SECRET="+jamfsim.DefaultClientSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	assertPruned(t, sim, s, "App-1.0.pkg", "App-1.2.pkg", "App-1.3.pkg", "App-1.4.pkg", "App-1.5.pkg", "App-1.6.pkg")
	if got := stdout.String(); got != "matched 8, kept 0 newest and 2 in use, deleted 6\n" {
		t.Errorf("stdout: %q", got)
	}
	f, err := os.Open(filepath.Join(out, "jcds2-prune-plan.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 9 || strings.Join(rows[0], ",") != "id,packageName,fileName,action,reason" {
		t.Fatalf("CSV: %v %q", err, rows)
	}
	actions := map[string]int{}
	for _, row := range rows[1:] {
		actions[row[3]]++
	}
	if actions["deleted"] != 6 || actions["keep (in use)"] != 2 {
		t.Fatalf("CSV actions: %v", actions)
	}
}

// SIGKILL at every delete boundary (held before the request is served, so
// the kill lands between two steps), then a plain re-run: exactly the
// planned packages are gone (records, JCDS files, copies on the file share),
// the rest converges; nothing the plan did not list is deleted anywhere.
func TestPruneCrashesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash suite is long; CI runs it without -short")
	}
	boundaries := []string{
		"DELETE /api/v1/jcds/files/App-1.4.pkg", "DELETE /api/v1/packages/5",
		"DELETE /api/v1/jcds/files/App-1.2.pkg", "DELETE /api/v1/packages/3",
		"DELETE /api/v1/jcds/files/App-1.0.pkg", "DELETE /api/v1/packages/1",
		"GET /api/v1/packages", // the read-back after the last delete
		// A server older than 11.5: the records through the Classic API.
		"11.4.0 DELETE /api/v1/jcds/files/App-1.2.pkg", "11.4.0 DELETE /JSSResource/packages/id/3",
		"11.4.0 DELETE /JSSResource/packages/id/1",
	}
	for _, hold := range boundaries {
		t.Run(hold, func(t *testing.T) {
			version, rest, classic := strings.Cut(hold, " DELETE ")
			if classic {
				hold = "DELETE " + rest
			} else {
				version = ""
			}
			sim := newSim(t, jamfsim.Config{Version: version})
			s := seedTitle(t, sim, 8)
			sim.AddPolicy("Install App 1.1", 2)
			sim.AddPreStage("Lab", "4")
			if hold == "GET /api/v1/packages" {
				// The first listing is the plan's, the second the look for
				// other records naming the files to delete.
				sim.Pass(hold, 2)
			}
			// A file share holds a copy of every package: its deletes
			// come first, so a kill at a JCDS delete follows a share one.
			url, packages := shareDir(t)
			for file, path := range s.files {
				data, _ := os.ReadFile(path)
				os.WriteFile(filepath.Join(packages, file), data, 0o644)
			}
			env := cleanEnv(sim)
			env["SMB_URL"] = url
			data, _ := processor.EncodeEnv(env, processor.FormatBinary)
			arrived := sim.DelayNotify(hold, time.Minute, 1)
			cmd := exec.Command(binary, "clean")
			cmd.Stdin = bytes.NewReader(data)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-arrived:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the run never reached %s:\n%s", hold, stderr.String())
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			sim.ClearFaults()
			if r := runCleanEnv(t, sim, env); r.code != 0 {
				t.Fatalf("the run after the crash failed: exit %d\n%s", r.code, r.stderr)
			}
			assertPruned(t, sim, s, "App-1.0.pkg", "App-1.2.pkg", "App-1.4.pkg")
			assertShareHolds(t, packages, "App-1.1.pkg,App-1.3.pkg,App-1.5.pkg,App-1.6.pkg,App-1.7.pkg,Apple-1.0.pkg,MyApp-1.0.pkg")
		})
	}
}

// File shares named by the inputs lose the deleted packages' copies too,
// and only those; a missing copy is no error.
func TestPruneDeletesShareCopies(t *testing.T) {
	sim := newCheckedSim(t, jamfsim.Config{})
	s := seedTitle(t, sim, 5)
	url, packages := shareDir(t)
	for file, path := range s.files {
		if file != "App-1.1.pkg" { // one copy already missing
			data, _ := os.ReadFile(path)
			os.WriteFile(filepath.Join(packages, file), data, 0o644)
		}
	}
	env := cleanEnv(sim)
	env["SMB_URL"] = url
	env["versions_to_keep"] = "2"
	r := runCleanEnv(t, sim, env)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	assertPruned(t, sim, s, "App-1.0.pkg", "App-1.1.pkg", "App-1.2.pkg")
	assertShareHolds(t, packages, "App-1.3.pkg,App-1.4.pkg,Apple-1.0.pkg,MyApp-1.0.pkg")
}

// An API client without a privilege the plan needs (here reading
// PreStages) stops before any delete, naming what Jamf Pro refused.
func TestPruneWithoutPrivilegeDeletesNothing(t *testing.T) {
	var privs []string
	for _, p := range jamfsim.AllPrivileges {
		if p != jamfsim.PrivReadPreStages {
			privs = append(privs, p)
		}
	}
	sim := newCheckedSim(t, jamfsim.Config{Privileges: map[string][]string{jamfsim.DefaultClientID: privs}})
	s := seedTitle(t, sim, 8)
	r := runCleanEnv(t, sim, cleanEnv(sim))
	if r.code != processor.ExitProcessorError || !strings.Contains(r.lastLine(), "reading computer PreStages") || !strings.Contains(r.lastLine(), "403") {
		t.Fatalf("exit %d, last line %q", r.code, r.lastLine())
	}
	assertPruned(t, sim, s)
}

// aws_cdp_mode: the deleted packages' objects leave the customer's own
// bucket too (and on a server without JCDS 2.0 the records go through
// the packages API).
func TestPruneDeletesSelfHostedS3Objects(t *testing.T) {
	sim := newSim(t, jamfsim.Config{NoJCDS: true, CDNType: "AMAZON_S3"})
	dir := t.TempDir()
	awsEnv := []string{
		"AWS_ENDPOINT_URL_S3=" + minio.URL, "AWS_ACCESS_KEY_ID=" + minio.RootUser, "AWS_SECRET_ACCESS_KEY=" + minio.RootPassword,
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
	}
	for i := 0; i < 3; i++ {
		pkg := writePkg(t, dir, fmt.Sprintf("App-1.%d.pkg", i), 1<<20, byte(i))
		env := baseEnv(t, sim, pkg)
		env["aws_cdp_mode"], env["S3_BUCKET_NAME"] = "True", sim.Config().Bucket
		env["pkg_display_name"] = fmt.Sprintf("App-1.%d", i)
		if r := runDecoded(t, sim, env, awsEnv...); r.code != 0 {
			t.Fatalf("upload %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	env := cleanEnv(sim)
	env["versions_to_keep"] = "1"
	env["aws_cdp_mode"], env["S3_BUCKET_NAME"] = "True", sim.Config().Bucket
	data, _ := processor.EncodeEnv(env, processor.FormatBinary)
	cmd := exec.Command(binary, "clean")
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), awsEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	client := sim.Backend().Client()
	for i, want := range []bool{false, false, true} {
		_, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(sim.Config().Bucket), Key: aws.String(fmt.Sprintf("App-1.%d.pkg", i))})
		if (err == nil) != want {
			t.Errorf("App-1.%d.pkg in the bucket: %v, want %v", i, err == nil, want)
		}
	}
	if n := len(sim.Packages()); n != 1 {
		t.Fatalf("%d records left, want 1", n)
	}
}

// assertShareHolds fails unless the share's folder holds exactly want:
// the file names, in order, joined by commas.
func assertShareHolds(t *testing.T, dir, want string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	var names []string
	for _, p := range left {
		names = append(names, filepath.Base(p))
	}
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("left on the share: %s", got)
	}
}
