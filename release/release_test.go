package main

import (
	"bytes"
	"debug/macho"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const shimPath = "../recipes/JCDS2Processors/JCDS2PackageUploader.py"

var (
	built  string            // JCDS2Processors as `go run ./release` writes it: the shim and bin/
	hashes map[string]string // SHA-256 of the files in bin/
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jcds2-release-")
	if err != nil {
		panic(err)
	}
	built = filepath.Join(dir, "JCDS2Processors")
	if _, hashes, err = release("..", built); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The committed shim must be what the release writes for this checkout:
// same manifest, same pinned hashes of reproducible builds.
func TestCommittedShimIsCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(built, shimFile))
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
	if len(again) != len(hashes) {
		t.Fatalf("two builds made different files: %v vs %v", hashes, again)
	}
	for name, h := range hashes {
		if again[name] != h {
			t.Fatalf("%s: two builds differ (%s vs %s)", name, h, again[name])
		}
	}
}

// The release's bin/ holds exactly what the shim can pick: the universal
// Mac binary and one file per other platform, each pinned.
func TestLayoutHoldsWhatTheShimPicks(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(built, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		if hashes[e.Name()] == "" {
			t.Errorf("bin/%s is not pinned", e.Name())
		}
	}
	want := "jcds2-uploader jcds2-uploader-linux-amd64 jcds2-uploader-linux-arm64"
	if strings.Join(got, " ") != want {
		t.Fatalf("bin/ holds %v, want %s", got, want)
	}
}

func TestUniversalBinaryHoldsBothMacArchitectures(t *testing.T) {
	f, err := macho.OpenFat(filepath.Join(built, "bin", universalBin))
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

// shimPythons are the interpreters the shim's unit tests run under: the
// first of $PYTHON, /usr/bin/python3 and python3 that exists, then every
// one in $SHIM_PYTHONS (space-separated; CI adds a Python 3.10, what
// AutoPkg bundles on macOS, when it has one).
func shimPythons(t *testing.T) []string {
	var out []string
	for _, p := range []string{os.Getenv("PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			out = append(out, found)
			break
		}
	}
	if len(out) == 0 {
		t.Fatal("no python3 found: install python3, or set PYTHON")
	}
	return append(out, strings.Fields(os.Getenv("SHIM_PYTHONS"))...)
}

// The shim's unit tests (testdata/shimtest): what the real-AutoPkg test
// cannot reach from this machine. Standard library only, over a minimal
// autopkglib stand-in, against the release layout and the simulator.
func TestShimUnderPython(t *testing.T) {
	sim := startSim(t, hostBinary(t, built))
	abs, _ := filepath.Abs("../testdata/shimtest")
	for _, py := range shimPythons(t) {
		cmd := exec.Command(py, "-B", "-m", "unittest", "-v", "test_shim")
		cmd.Dir = abs
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8",
			"PYTHONPATH=" + abs, "PYTHONDONTWRITEBYTECODE=1",
			"SHIM_DIR=" + built, "SIM_URL=" + sim.vars["JSS_URL"], "AWS_ENDPOINT_URL_S3=" + sim.vars["AWS_ENDPOINT_URL_S3"],
			"SIM_CLIENT_ID=" + sim.vars["CLIENT_ID"], "SIM_CLIENT_SECRET=" + sim.vars["CLIENT_SECRET"],
		}
		out, err := cmd.CombinedOutput()
		t.Logf("%s -m unittest:\n%s", py, out)
		if err != nil || !bytes.Contains(out, []byte("\nOK")) {
			t.Fatalf("the shim's Python tests failed under %s: %v", py, err)
		}
	}
}
