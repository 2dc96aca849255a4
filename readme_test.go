package main

import (
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite docs/inputs.md's tables from the manifest")

// inputsPage holds the input and output tables generated from the manifest.
const inputsPage = "docs/inputs.md"

const tablesBegin, tablesEnd = "<!-- manifest:begin (generated; go test -run TestReadme -update-readme) -->\n", "<!-- manifest:end -->"

// The input/output tables come from the manifest, so they cannot drift.
func TestReadmeTablesMatchTheManifest(t *testing.T) {
	data, err := os.ReadFile(inputsPage)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, tablesBegin), strings.Index(readme, tablesEnd)
	if i < 0 || j < i {
		t.Fatal(inputsPage + " lacks the manifest markers")
	}
	want := readme[:i+len(tablesBegin)] + processor.MarkdownTables() + readme[j:]
	if want == readme {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(inputsPage, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal(inputsPage + "'s input/output tables differ from the manifest: run go test -run TestReadme -update-readme")
}

// ourOwnWords are what the user docs must not say: issue numbers, paths
// of the environment the project is built in, the reference notes.
var ourOwnWords = regexp.MustCompile(`(?i)\bissues? #?\d+|(^|\s)#\d{2,}\b|\.\./shared|/work/|section 13|the reference\b`)

// README.md stays for users: at most 250 lines, no paths of our own
// environment, the two set-up commands, and a by-hand quick start that
// works verbatim against the simulator: terminal 1's block runs in the
// background, terminal 2's in bash -e, with the binary on PATH.
func TestReadmeQuickStart(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	if n := strings.Count(readme, "\n"); n > 250 {
		t.Errorf("README.md has %d lines; keep it to 250 and move the rest to docs/", n)
	}
	pages, _ := filepath.Glob("docs/*.md")
	for _, page := range append(pages, "README.md", "CONTRIBUTING.md") {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if m := ourOwnWords.FindString(string(text)); m != "" {
			t.Errorf("%s mentions %q, which only exists for the people building it", page, m)
		}
	}
	block := func(marker string) string {
		_, after, ok := strings.Cut(readme, "<!-- quickstart: "+marker+" -->\n```sh\n")
		body, _, ok2 := strings.Cut(after, "```")
		if !ok || !ok2 {
			t.Fatalf("README.md lacks the %q quick start block", marker)
		}
		return body
	}
	// The two set-up commands a fresh machine with Go can run: the main
	// job on the embedded simulator (TestDemo runs it) and the tests.
	setup := block("set-up")
	for _, cmd := range []string{"go run . demo", "go test ./..."} {
		if !strings.Contains("\n"+setup, "\n"+cmd+" ") && !strings.Contains("\n"+setup, "\n"+cmd+"\n") {
			t.Errorf("README.md's set-up block lacks the line %q:\n%s", cmd, setup)
		}
	}
	sim, steps := block("terminal 1"), block("terminal 2")
	addr := "127.0.0.1:8080"
	if c, err := net.Dial("tcp", addr); err == nil {
		// Something else (another test run on a shared machine) has the
		// simulator's default port: run the same blocks on a free one.
		c.Close()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
		sim = strings.TrimSpace(sim) + " --addr " + addr
		steps = strings.ReplaceAll(steps, "127.0.0.1:8080", addr)
		t.Logf("127.0.0.1:8080 is taken: the quick start runs on %s instead", addr)
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "jcds2-uploader"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	environ := []string{"PATH=" + path, "HOME=" + work, "XDG_CACHE_HOME=" + filepath.Join(work, ".cache")}
	server := exec.Command("bash", "-c", "exec "+strings.TrimSpace(sim))
	server.Dir, server.Env = work, environ
	var serverOut strings.Builder
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		server.Process.Signal(os.Interrupt)
		server.Wait()
	}()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the simulator did not listen within 30 s:\n%s", serverOut.String())
		}
	}
	cmd := exec.Command("bash", "-e", "-c", steps)
	cmd.Dir, cmd.Env = work, environ
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("terminal 2's block failed: %v\n%s", err, out)
	}
	for _, want := range []string{"Example-1.0.pkg: uploaded, verified (package id 1)", `"pkg_uploaded": false`, `"pkg_upload_status": "unchanged"`} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the quick start's output lacks %q:\n%s", want, out)
		}
	}
}

// docs/migration.md's tables name every input and output of
// JamfPackageUploader's that the manifest knows, each with a verdict
// matching what the manifest says the processor does.
func TestDocsMigrationCoversEveryInput(t *testing.T) {
	data, err := os.ReadFile("docs/migration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	rows := func(marker string) map[string]string {
		_, after, ok := strings.Cut(doc, "<!-- migration:"+marker+" -->\n")
		table, _, ok2 := strings.Cut(after, "<!-- migration:end -->")
		if !ok || !ok2 {
			t.Fatalf("docs/migration.md lacks the %s table markers", marker)
		}
		verdicts := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(table), "\n")[2:] {
			cells := strings.Split(line, "|")
			if len(cells) < 4 {
				t.Fatalf("not a table row: %q", line)
			}
			verdict := strings.TrimSpace(cells[2])
			for _, part := range strings.Split(cells[1], "`")[1:] {
				if name := strings.TrimSpace(part); name != "" && name != "," {
					verdicts[name] = verdict
				}
			}
		}
		return verdicts
	}
	inputs := rows("inputs")
	for _, in := range processor.Inputs {
		if in.Ours {
			continue
		}
		v, ok := inputs[in.Name]
		switch {
		case !ok:
			t.Errorf("docs/migration.md's input table lacks %s", in.Name)
		case in.Unsupported != "" && v != "not implemented":
			t.Errorf("docs/migration.md says %s is %q; the manifest says it is not implemented", in.Name, v)
		case in.Unsupported == "" && v != "same" && v != "different":
			t.Errorf("docs/migration.md says %s is %q; want same or different", in.Name, v)
		}
	}
	for name := range inputs {
		if _, ok := processor.LookupInput(name); !ok {
			t.Errorf("docs/migration.md's input table names %s, which the manifest does not have", name)
		}
	}
	outputs := rows("outputs")
	known := map[string]bool{}
	for _, o := range processor.Outputs {
		known[o.Name] = true
		if v, ok := outputs[o.Name]; !o.Ours && (!ok || v == "not written") {
			t.Errorf("docs/migration.md's output table lacks %s, or says it is not written", o.Name)
		}
	}
	for name, v := range outputs {
		if !known[name] && v != "not written" {
			t.Errorf("docs/migration.md says output %s is %q, but the processor does not write it", name, v)
		}
	}
}

// README's layout block stays ten lines at most and names only paths
// that exist, so a move or a rename shows here.
func TestReadmeLayoutNamesRealPaths(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "<!-- layout -->\n```text\n")
	body, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("README.md lacks its layout block")
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) > 10 {
		t.Errorf("README.md's layout block has %d lines; keep it to ten", len(lines))
	}
	named := regexp.MustCompile(`(^|[ (])([a-z0-9_]+(/|\.go|/[a-z_*]+\.go))`)
	n := 0
	for _, line := range lines {
		for _, m := range named.FindAllStringSubmatch(line, -1) {
			n++
			matches, _ := filepath.Glob(strings.TrimSuffix(m[2], "/"))
			if len(matches) == 0 {
				t.Errorf("README.md's layout names %s, which does not exist", m[2])
			}
		}
	}
	if n < len(lines) {
		t.Errorf("README.md's layout names %d paths in %d lines; every line should name one", n, len(lines))
	}
}
