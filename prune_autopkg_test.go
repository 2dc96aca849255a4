package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// The real AutoPkg (../shared/tools/autopkg) runs a recipe whose one step
// is com.github.jcds2-uploader.processors/JCDS2PackageCleaner, through
// the committed shim (recipes/JCDS2PackageCleaner.py) and this checkout's
// binary (JCDS2_UPLOADER_PATH and its SHA-256), against the simulator:
// the title of 8 versions, 2 in use, versions_to_keep 3. The
// release suite (release/) runs the uploader's shim the same way from a
// GoReleaser snapshot.
func TestPruneThroughAutoPkg(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs AutoPkg")
	}
	script := filepath.Join("..", "shared", "tools", "autopkg", "Code", "autopkg")
	if d := os.Getenv("AUTOPKG_DIR"); d != "" {
		script = filepath.Join(d, "Code", "autopkg")
	}
	python := os.Getenv("AUTOPKG_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	if _, err := os.Stat(script); err != nil {
		if os.Getenv("JCDS2_REQUIRE_AUTOPKG") == "1" {
			t.Fatalf("no AutoPkg at %s (JCDS2_REQUIRE_AUTOPKG=1)", script)
		}
		t.Skipf("no AutoPkg at %s; set AUTOPKG_DIR (JCDS2_REQUIRE_AUTOPKG=1 makes this a failure)", script)
	}
	script, _ = filepath.Abs(script)

	sim := newCheckedSim(t, jamfsim.Config{})
	s := seedTitle(t, sim, 8)
	sim.AddPolicy("Install App 1.1", 2)
	sim.AddPreStage("Lab", "4")

	root := t.TempDir()
	search := filepath.Join(root, "recipes")
	procs := filepath.Join(search, "JCDS2Processors")
	os.MkdirAll(procs, 0o755)
	for _, f := range []string{"JCDS2Processors.recipe.yaml", "JCDS2PackageCleaner.py", "JCDS2PackageUploader.py"} {
		data, err := os.ReadFile(filepath.Join("recipes", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(procs, f), data, 0o644)
	}
	recipe := filepath.Join(search, "App.prune.recipe.yaml")
	os.WriteFile(recipe, []byte(`Identifier: local.prune.App
MinimumVersion: "2.3"
Input:
  NAME: App
Process:
  - Processor: com.github.jcds2-uploader.processors/JCDS2PackageCleaner
    Arguments:
      versions_to_keep: 3
`), 0o644)
	bin, _ := os.ReadFile(binary)
	sum := sha256.Sum256(bin)
	prefs := map[string]any{
		"CACHE_DIR": filepath.Join(root, "cache"), "RECIPE_SEARCH_DIRS": []string{search},
		"RECIPE_OVERRIDE_DIRS": []string{filepath.Join(root, "overrides")}, "RECIPE_REPO_DIR": filepath.Join(root, "repos"),
		"JSS_URL": sim.URL, "CLIENT_ID": jamfsim.DefaultClientID, "CLIENT_SECRET": jamfsim.DefaultClientSecret,
		"JCDS2_UPLOADER_PATH": binary, "JCDS2_UPLOADER_SHA256": hex.EncodeToString(sum[:]),
	}
	data, _ := plist.MarshalIndent(prefs, plist.XMLFormat, "\t")
	prefsPath := filepath.Join(root, "prefs.plist")
	os.WriteFile(prefsPath, data, 0o600)
	report := filepath.Join(root, "report.plist")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-B", script, "run", "-vv", "--prefs", prefsPath, "--report-plist", report, recipe)
	home := filepath.Join(root, "home")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("autopkg: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	assertPruned(t, sim, s, "App-1.0.pkg", "App-1.2.pkg", "App-1.4.pkg")
	out := stdout.String()
	for _, want := range []string{`in use  App-1.1 (id 2): installed by policy 1`, `in use  App-1.3 (id 4): installed by PreStage 1 "Lab"`,
		"The following package cleaning was performed in Jamf Pro:"} {
		if !strings.Contains(out, want) {
			t.Errorf("AutoPkg's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr.String(), jamfsim.DefaultClientSecret) {
		t.Fatal("the client secret reached AutoPkg's output")
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Summary map[string]struct {
			DataRows []map[string]any `plist:"data_rows"`
		} `plist:"summary_results"`
	}
	if _, err := plist.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	rows := rep.Summary["jamfpackagecleaner_summary_result"].DataRows
	if len(rows) != 1 || rows[0]["deleted"] != "3" || rows[0]["kept_in_use"] != "2" || rows[0]["found_matches"] != "8" {
		t.Fatalf("report summary rows: %v", rows)
	}
}
