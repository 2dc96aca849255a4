package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Parallel runs of one recipe: two CI runners, or a hand run during the
// nightly one. Every run exits 0 and the server ends converged: one
// record, one file with the local bytes, no Name_N copy.

// runAtOnce starts n processor runs of env together and waits for all.
// home, when not empty, gives each run its own cache (another machine:
// no shared run lock).
func runAtOnce(t *testing.T, sim *jamfsim.Server, env processor.Env, n int, ownCache bool) []string {
	t.Helper()
	data, err := processor.EncodeEnv(env, processor.FormatBinary)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	fails := make([]string, n)
	for i := range n {
		cmd := exec.Command(binary)
		cmd.Stdin = bytes.NewReader(data)
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint())
		if ownCache {
			home := t.TempDir()
			cmd.Env = append(cmd.Env, "HOME="+home, "XDG_CACHE_HOME="+home)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				fails[i] = fmt.Sprintf("run %d: %v\n%s", i, err, stderr.String())
			}
		}()
	}
	wg.Wait()
	var out []string
	for _, f := range fails {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func TestParallelRunsConverge(t *testing.T) {
	for _, route := range []string{"", "pkg_api_mode"} {
		for _, replace := range []bool{false, true} {
			t.Run(fmt.Sprintf("route %q replace %v", route, replace), func(t *testing.T) {
				sim := newSim(t, jamfsim.Config{})
				dir := t.TempDir()
				pkg := writePkg(t, dir, "Par.pkg", 4<<20, 81)
				env := baseEnv(t, sim, pkg)
				if route != "" {
					env[route] = "True"
				}
				if replace {
					mustRun(t, sim, env)
					writePkg(t, dir, "Par.pkg", 4<<20, 82)
					env["replace_pkg"] = "True"
				}
				if fails := runAtOnce(t, sim, env, 3, false); len(fails) > 0 {
					t.Fatalf("every run must succeed:\n%v", fails)
				}
				assertConverged(t, sim, "Par.pkg", pkg)
			})
		}
	}
}

// Runs on different machines share no lock: they meet at the server.
// A conflict on the record write means another run got there first:
// each looks again and converges; copies JCDS made of the same bytes
// under Name_N are removed by the run that made them, or the next.
func TestParallelRunsOnDifferentMachinesConverge(t *testing.T) {
	for _, route := range []string{"", "pkg_api_mode"} {
		t.Run("route "+route, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			pkg := writePkg(t, t.TempDir(), "Far.pkg", 4<<20, 83)
			env := baseEnv(t, sim, pkg)
			if route != "" {
				env[route] = "True"
			}
			// Each run's look-up is held until all three have made it, so
			// all three see nothing and all three write.
			sim.Delay("GET /api/v1/packages", 5*time.Second, 3)
			if fails := runAtOnce(t, sim, env, 3, true); len(fails) > 0 {
				t.Fatalf("every run must succeed:\n%v", fails)
			}
			conflicts := 0
			for _, e := range sim.Log() {
				if e.Method == "POST" && e.Path == "/api/v1/packages" && e.Status >= 400 {
					conflicts++
				}
			}
			// On a loaded machine the starts can be seconds apart, and the
			// later runs then find the record: also a meeting, if a milder
			// one. TestRecordConflictMeansLookAgain makes the conflict sure.
			t.Logf("%d record writes met another run's", conflicts)
			if err := convergedNow(sim, "Far.pkg", pkg); err != nil {
				t.Logf("after the parallel runs: %v; one more plain run", err)
				mustRun(t, sim, env)
			}
			assertConverged(t, sim, "Far.pkg", pkg)
		})
	}
}

func convergedNow(sim *jamfsim.Server, name, pkg string) error {
	sha3, size, err := jamfsim.FileSHA3(pkg)
	if err != nil {
		return err
	}
	return sim.Converged(name, sha3, size)
}

// A conflict on creating the record (409, or 400 DUPLICATE_FIELD) means
// another run got there first: the run looks again and converges; it
// neither fails nor undoes its upload.
func TestRecordConflictMeansLookAgain(t *testing.T) {
	for _, route := range []string{"", "pkg_api_mode"} {
		t.Run("route "+route, func(t *testing.T) {
			sim := newSim(t, jamfsim.Config{})
			pkg := writePkg(t, t.TempDir(), "Conflict.pkg", 2<<20, 84)
			env := baseEnv(t, sim, pkg)
			if route != "" {
				env[route] = "True"
			}
			sim.Fail("POST /api/v1/packages", 409, 1)
			r := runEnv(t, sim, env, processor.FormatBinary)
			if r.code != 0 || !strings.Contains(string(r.stderr), "Another run created the record for Conflict.pkg first: looking again") {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			assertConverged(t, sim, "Conflict.pkg", pkg)
		})
	}
}
