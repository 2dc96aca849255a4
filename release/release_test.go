package main

import (
	"bytes"
	"debug/macho"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

const shimPath = "../recipes/JCDS2Processors/JCDS2PackageUploader.py"

var (
	built  string            // a temp dir holding this checkout's release binaries
	hashes map[string]string // their SHA-256
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jcds2-release-")
	if err != nil {
		panic(err)
	}
	built = dir
	if hashes, err = buildAll("..", filepath.Join(dir, "bin"), version("..")); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The committed shim must be what the generator writes for this
// checkout: same manifest, same pinned hashes of reproducible builds.
func TestCommittedShimIsCurrent(t *testing.T) {
	want, err := shimSource(version(".."), hashes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(shimPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("recipes/JCDS2Processors/JCDS2PackageUploader.py is stale: run `go run ./release` and commit the shim")
	}
}

func TestBuildsAreReproducible(t *testing.T) {
	again, err := buildAll("..", filepath.Join(t.TempDir(), "bin"), version(".."))
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range hashes {
		if again[name] != h {
			t.Fatalf("%s: two builds differ (%s vs %s)", name, h, again[name])
		}
	}
}

func TestUniversalBinaryHoldsBothMacArchitectures(t *testing.T) {
	f, err := macho.OpenFat(filepath.Join(built, "bin", "jcds2-uploader"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cpus []string
	for _, a := range f.Arches {
		cpus = append(cpus, a.Cpu.String())
		if a.Offset%(1<<14) != 0 || a.Type != macho.TypeExec {
			t.Fatalf("slice %v at %d is not an aligned executable", a.Cpu, a.Offset)
		}
	}
	if strings.Join(cpus, ",") != "CpuArm64,CpuAmd64" {
		t.Fatalf("slices: %v", cpus)
	}
}

// python finds an interpreter with PyYAML (AutoPkg bundles it; on Debian
// it is python3-yaml, which .ci/run installs).
func python(t *testing.T) string {
	for _, p := range []string{os.Getenv("PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		if err := exec.Command(p, "-c", "import yaml, plistlib").Run(); err == nil {
			return p
		}
	}
	t.Fatal("no python3 with PyYAML found: install python3 and python3-yaml (apt-get install python3-yaml), or set PYTHON")
	return ""
}

// The Python suite loads the shim as AutoPkg does and runs it against
// this checkout's binary and the simulator on MinIO.
func TestShimUnderPython(t *testing.T) {
	py := python(t)
	mp, err := jamfsim.StartMinIO()
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Stop()
	sim, err := jamfsim.New(jamfsim.Config{S3: mp.Backend()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	// The shared-processor folder as a user has it: the shim and bin/.
	dir := filepath.Join(t.TempDir(), "JCDS2Processors")
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	shim, _ := os.ReadFile(shimPath)
	os.WriteFile(filepath.Join(dir, "JCDS2PackageUploader.py"), shim, 0o644)
	host := filepath.Join(built, "bin", "jcds2-uploader-"+runtime.GOOS+"-"+runtime.GOARCH)
	bin, _ := os.ReadFile(host)
	if err := os.WriteFile(filepath.Join(dir, "bin", "jcds2-uploader"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal(processor.GetManifest())
	abs, _ := filepath.Abs("../testdata/shimtest")
	recipes, _ := filepath.Abs("../recipes")
	cmd := exec.Command(py, "-m", "unittest", "-v", "test_shim")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(),
		"PYTHONPATH="+abs, "PYTHONDONTWRITEBYTECODE=1",
		"SHIM_DIR="+dir, "SIM_URL="+sim.URL, "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint(),
		"SIM_CLIENT_ID="+jamfsim.DefaultClientID, "SIM_CLIENT_SECRET="+jamfsim.DefaultClientSecret,
		"SIM_USER="+jamfsim.DefaultUser, "SIM_PASSWORD="+jamfsim.DefaultPassword,
		"MANIFEST_JSON="+string(manifest), "RECIPES_DIR="+recipes)
	out, err := cmd.CombinedOutput()
	t.Logf("python unittest:\n%s", out)
	if err != nil || !bytes.Contains(out, []byte("\nOK")) {
		t.Fatalf("the Python shim tests failed: %v", err)
	}
	// Secrets the simulator issued never reached what the shim printed.
	for _, s := range sim.IssuedSecrets() {
		if bytes.Contains(out, []byte(s)) {
			t.Fatal("an issued token or S3 secret was printed")
		}
	}
}
