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

// Two machines replace one package on JCDS with different bytes at the
// same time (replace_pkg on both, no shared run lock). JCDS stores the
// first upload under the name and the second at Name_1. The run whose
// bytes did not get the name says it lost, removes its copy, writes no
// record and exits 0 "unchanged": it neither waits out the verify
// timeout nor leaves an unrecorded Name_1. The server ends converged on
// the winner's bytes.
func TestTwoMachinesReplacingOnJCDS(t *testing.T) {
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	first := writePkg(t, dir, "Upd.pkg", 4<<20, 91)
	mustRun(t, sim, baseEnv(t, sim, first))

	pkgs := []string{writePkg(t, t.TempDir(), "Upd.pkg", 4<<20, 92), writePkg(t, t.TempDir(), "Upd.pkg", 4<<20, 93)}
	// Both look-ups are held until both have made them: both find the
	// first version and both replace it.
	sim.Delay("GET /api/v1/packages", 3*time.Second, 2)
	type out struct {
		env     processor.Env
		stderr  string
		took    time.Duration
		failure string
	}
	outs := make([]out, 2)
	var wg sync.WaitGroup
	for i, pkg := range pkgs {
		env := baseEnv(t, sim, pkg)
		env["replace_pkg"] = "True"
		env["jcds2_verify_timeout"] = "900" // the default: a loser must not wait it out
		data, err := processor.EncodeEnv(env, processor.FormatBinary)
		if err != nil {
			t.Fatal(err)
		}
		home := t.TempDir() // another machine: its own cache and run lock
		cmd := exec.Command(binary)
		cmd.Stdin = bytes.NewReader(data)
		cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint(), "HOME="+home, "XDG_CACHE_HOME="+home)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmd.Wait()
			o := out{stderr: stderr.String(), took: time.Since(start)}
			if err != nil {
				o.failure = fmt.Sprintf("run %d: %v", i, err)
			} else if o.env, _, err = processor.DecodeEnv(stdout.Bytes()); err != nil {
				o.failure = fmt.Sprintf("run %d: stdout: %v", i, err)
			}
			outs[i] = o
		}()
	}
	wg.Wait()
	winner, lost := -1, 0
	for i, o := range outs {
		if o.failure != "" {
			t.Fatalf("%s\n%s", o.failure, o.stderr)
		}
		if o.took > 2*time.Minute {
			t.Errorf("run %d took %s: a run that lost must not wait out the verify timeout", i, o.took)
		}
		switch st := o.env["pkg_upload_status"]; st {
		case "uploaded, verified":
			winner = i
		case "unchanged (another run's upload of other bytes won)":
			lost++
			if o.env["pkg_uploaded"] != false || o.env["pkg_metadata_updated"] != false {
				t.Errorf("the run that lost claims a change: %v", o.env)
			}
			if !strings.Contains(o.stderr, "this run lost") {
				t.Errorf("the run that lost should say so:\n%s", o.stderr)
			}
		default:
			t.Errorf("run %d: status %q\n%s", i, st, o.stderr)
		}
	}
	if winner < 0 {
		// Both can win in turn when the second upload lands after the
		// first run has finished; then the later one is simply newer.
		t.Fatalf("no run won:\n%s\n---\n%s", outs[0].stderr, outs[1].stderr)
	}
	t.Logf("run %d won, %d lost; %s and %s", winner, lost, outs[0].took.Round(time.Second), outs[1].took.Round(time.Second))
	// The server holds the bytes at the name, a record describing them,
	// no Upd_1.pkg: the winner's, unless both won in turn.
	held, ok := sim.Files()["Upd.pkg"]
	for _, pkg := range pkgs {
		if sha3, _, _ := jamfsim.FileSHA3(pkg); ok && strings.EqualFold(sha3, held.SHA3) {
			assertConverged(t, sim, "Upd.pkg", pkg)
			return
		}
	}
	t.Fatalf("Upd.pkg holds neither run's bytes: %v", sim.Files())
}
