package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// Memory stays flat: the peak RSS of an upload does not grow with the
// package (parts are read from the file at their offsets). Sparse
// files keep the test fast; the simulator is told not to ingest them.
func TestPeakMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 1.25 GiB; skipped with -short (CI runs it)")
	}
	sim := newSim(t, jamfsim.Config{IngestDelay: time.Hour})
	dir := t.TempDir()
	peaks := map[int64]int64{}
	for _, size := range []int64{256 << 20, 1 << 30} {
		pkg := filepath.Join(dir, "Sparse.pkg")
		if err := os.Truncate(pkg, 0); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		f, _ := os.Create(pkg)
		f.Truncate(size)
		f.WriteAt([]byte("x"), size-1) // not all zeros at the end
		f.Close()
		env := baseEnv(t, sim, pkg)
		env["pkg_name"] = "Sparse-" + jamfsim.HumanSize(size) + ".pkg"
		env["jcds2_verify_timeout"] = "0"
		cmd, stderr := processCmd(sim, env)
		_, peak, err := jamfsim.RunMeasured(cmd)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		peaks[size] = peak
		t.Logf("%d MiB package: peak RSS %d MiB", size>>20, peak>>10)
		if peak > 64<<10 {
			t.Errorf("peak RSS %d KiB for a %d MiB package is over 64 MiB", peak, size>>20)
		}
	}
	if d := peaks[1<<30] - peaks[256<<20]; d > 8<<10 {
		t.Errorf("peak RSS grew by %d KiB from 256 MiB to 1 GiB: not flat", d)
	}
}

type uploaderFunc func(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error)

func (f uploaderFunc) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	return f(ctx, req, log)
}

// The soft memory limit is for the upload's part buffers; input parsing
// runs without it, so a large env never makes the collector thrash.
func TestMemoryLimitStartsWithTheUpload(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set")
	}
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)
	// Processor mode that fails in decoding leaves the limit alone.
	var stdout, stderr strings.Builder
	if code := run(nil, strings.NewReader("not a plist"), &stdout, &stderr); code != 10 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("decoding ran under a memory limit of %d", got)
	}
	// The upload runs under it.
	var during int64
	up := memoryLimited{uploaderFunc(func(context.Context, *jcds2.Request, jcds2.Logger) (*jcds2.Result, error) {
		during = debug.SetMemoryLimit(-1)
		return &jcds2.Result{}, nil
	})}
	if _, err := up.Upload(context.Background(), &jcds2.Request{}, nil); err != nil || during != uploadMemoryLimit {
		t.Fatalf("limit during the upload: %d (%v)", during, err)
	}
}
