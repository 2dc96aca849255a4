package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// BenchmarkLifecycleMemory: the peak RSS of `audit --json` and of
// `prune --dry-run` of one title (the real binary, a subprocess) at 500,
// 5,000 and 20,000 packages (policies, patch titles and PreStages in the
// issue's proportions), reported per scale and as ratios against the 500
// run of the same iteration, so a noisy machine moves every figure alike.
// Flat means the ratios stay near 1: the records are read a page at a
// time and judged as they come, never held all at once.
//
//	go test -run '^$' -bench LifecycleMemory -benchtime 1x .
func BenchmarkLifecycleMemory(b *testing.B) {
	scales := []jamfsim.Scale{
		{Packages: 500, Policies: 300, PatchTitles: 20, PreStages: 5},
		{Packages: 5000, Policies: 3000, PatchTitles: 200, PreStages: 50},
		{Packages: 20000, Policies: 12000, PatchTitles: 800, PreStages: 200},
	}
	type sim struct {
		*jamfsim.Server
		prefix string
	}
	sims := make([]sim, len(scales))
	for i, sc := range scales {
		s, err := jamfsim.New(jamfsim.Config{MaxInFlight: 4})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		prefix, err := s.SeedRepository(context.Background(), sc)
		if err != nil {
			b.Fatal(err)
		}
		sims[i] = sim{s, prefix}
	}
	measure := func(s sim, args ...string) (kib int64, requests int, seconds float64) {
		s.ResetLog()
		cmd := exec.Command(binary, append(args, "--url", s.URL)...)
		cmd.Env = append(os.Environ(), "CLIENT_ID="+jamfsim.DefaultClientID, "CLIENT_SECRET="+jamfsim.DefaultClientSecret)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		m, err := jamfsim.Measure(cmd)
		if err != nil {
			b.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		if m.PeakKiB == 0 {
			b.Fatal("no peak RSS read from /proc: the figures would be made up")
		}
		return m.PeakKiB, len(s.Log()), m.Wall.Seconds()
	}
	for range b.N {
		for _, run := range []struct {
			name string
			args func(s sim) []string
		}{
			{"audit", func(sim) []string { return []string{"audit", "--json"} }},
			{"prune", func(s sim) []string { return []string{"prune", "--dry-run", "--keep", "3", "--match", s.prefix} }},
		} {
			var base int64
			for i, s := range sims {
				kib, requests, secs := measure(s, run.args(s)...)
				n := scales[i].Packages
				b.ReportMetric(float64(kib)/1024, fmt.Sprintf("%s-MiB@%d", run.name, n))
				b.ReportMetric(float64(requests), fmt.Sprintf("%s-requests@%d", run.name, n))
				b.ReportMetric(secs, fmt.Sprintf("%s-s@%d", run.name, n))
				if i == 0 {
					base = kib
					continue
				}
				b.ReportMetric(float64(kib)/float64(base), fmt.Sprintf("%s-RSS-x@%d/500", run.name, n))
			}
		}
	}
}
