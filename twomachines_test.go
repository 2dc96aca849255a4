package main

import (
	"bytes"
	"context"
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
// same time (replace_pkg on both, no shared run lock). One run's bytes
// get the name: JCDS stores the other's at Name_1, or the other run's
// delete of the file it found stale takes them, and its record write
// comes before or after the winner's. The run whose bytes did not keep
// the name says it lost, leaves no copy, writes no record and exits 0
// "unchanged": it does not wait out its verify timeout (10 minutes here;
// each run is killed after 3, failing the test), nor leave an
// unrecorded Name_1. The server ends converged on the winner's bytes.
//
// The first stale-file delete is held 3 s, and the first record write 6
// s, so that the other run can upload, and write its record, in
// between: the ordering in which the loser's record is taken over.
// Runs that miss each other on a loaded machine (the later one simply
// replaces the earlier's) are true of both, but not the race: tried
// again with a fresh server, up to 3 times.
func TestTwoMachinesReplacingOnJCDS(t *testing.T) {
	for attempt := 1; attempt <= 3; attempt++ {
		if twoMachinesRace(t) {
			return
		}
		t.Logf("attempt %d: the runs did not overlap (both replaced in turn); again", attempt)
	}
	t.Fatal("in 3 attempts the two runs never raced for the name")
}

// twoMachinesRace runs the race once and checks it; it reports whether
// one run lost (false: both replaced in turn, the server holds one).
func twoMachinesRace(t *testing.T) bool {
	t.Helper()
	sim := newSim(t, jamfsim.Config{})
	dir := t.TempDir()
	first := writePkg(t, dir, "Upd.pkg", 4<<20, 91)
	mustRun(t, sim, baseEnv(t, sim, first))

	pkgs := []string{writePkg(t, t.TempDir(), "Upd.pkg", 4<<20, 92), writePkg(t, t.TempDir(), "Upd.pkg", 4<<20, 93)}
	// Both look-ups are held until both have made them: both find the
	// first version and both replace it.
	sim.Delay("GET /api/v1/packages", 3*time.Second, 2)
	sim.Delay("DELETE /api/v1/jcds/files", 3*time.Second, 1)
	sim.Delay("PUT /api/v1/packages", 6*time.Second, 1)
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
		env["jcds2_verify_timeout"] = "600" // a loser must not wait it out
		data, err := processor.EncodeEnv(env, processor.FormatBinary)
		if err != nil {
			t.Fatal(err)
		}
		home := t.TempDir() // another machine: its own cache and run lock
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary)
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
			switch {
			case ctx.Err() != nil:
				o.failure = fmt.Sprintf("run %d was still running after %s: a run that lost must not wait out its verify timeout", i, o.took.Round(time.Second))
			case err != nil:
				o.failure = fmt.Sprintf("run %d: %v", i, err)
			default:
				if o.env, _, err = processor.DecodeEnv(stdout.Bytes()); err != nil {
					o.failure = fmt.Sprintf("run %d: stdout: %v", i, err)
				}
			}
			outs[i] = o
		}()
	}
	wg.Wait()
	var won []int
	lost := 0
	for i, o := range outs {
		if o.failure != "" {
			t.Fatalf("%s\n%s", o.failure, o.stderr)
		}
		switch st := o.env["pkg_upload_status"]; st {
		case "uploaded, verified":
			won = append(won, i)
		case "unchanged (another run's upload of other bytes won)":
			lost++
			if o.env["pkg_uploaded"] != false || o.env["pkg_metadata_updated"] != false {
				t.Errorf("the run that lost claims a change: %v", o.env)
			}
			if !strings.Contains(o.stderr, "this run lost") || !strings.Contains(o.stderr, "was left to another run") {
				t.Errorf("the run that lost should say so:\n%s", o.stderr)
			}
		default:
			t.Errorf("run %d: status %q\n%s", i, st, o.stderr)
		}
	}
	t.Logf("%d won, %d lost; %s and %s", len(won), lost, outs[0].took.Round(time.Second), outs[1].took.Round(time.Second))
	// The server holds the bytes at the name, a record describing them,
	// no Upd_1.pkg: the winner's, or the later one's if both won in turn.
	held, ok := sim.Files()["Upd.pkg"]
	for _, i := range won {
		if sha3, _, _ := jamfsim.FileSHA3(pkgs[i]); ok && strings.EqualFold(sha3, held.SHA3) {
			assertConverged(t, sim, "Upd.pkg", pkgs[i])
			if len(won) == 1 && lost == 1 {
				return true
			}
			if len(won) == 2 {
				return false
			}
		}
	}
	t.Fatalf("%d won, %d lost, and Upd.pkg holds no winner's bytes: %v\n%s\n---\n%s", len(won), lost, sim.Files(), outs[0].stderr, outs[1].stderr)
	return false
}
