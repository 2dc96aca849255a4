package main

// The lifecycle's scale figures: audit and a dry-run prune of one title
// against the simulator holding 5,000 packages, 3,000 policies, 200 patch
// titles and 50 PreStages, behind an edge that answers a fifth concurrent
// request with 429 (Config.MaxInFlight 4). The peer is a one-at-a-time
// reader sending the very same reads (what JamfUnusedPackageCleaner does:
// it reads policies one by one); memory is compared with the same audit
// at a tenth of the scale, to show it stays flat.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

var (
	lifecycleOn   = flag.Bool("lifecycle", true, "also measure audit and prune --dry-run at 5,000 packages / 3,000 policies")
	lifecycleOnly = flag.Bool("lifecycle-only", false, "only the lifecycle's scale figures")
)

// withLifecycle runs the upload bench (unless -lifecycle-only), then the
// lifecycle's figures (unless -lifecycle=false).
func withLifecycle(uploads func() error, runs int) error {
	if !*lifecycleOnly {
		if err := uploads(); err != nil {
			return err
		}
	}
	if !*lifecycleOn && !*lifecycleOnly {
		return nil
	}
	return lifecycleFigures(runs)
}

var fullScale = jamfsim.Scale{Packages: 5000, Policies: 3000, PatchTitles: 200, PreStages: 50}

type lcSample struct {
	wall             time.Duration
	requests, peak   int
	limited, peakKiB int64
}

func lifecycleFigures(runs int) error {
	dir, err := os.MkdirTemp("", "jcds2-bench-lifecycle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := buildBinary(dir)
	if err != nil {
		return err
	}
	big, prefix, err := seeded(fullScale)
	if err != nil {
		return err
	}
	defer big.Close()
	small, _, err := seeded(jamfsim.Scale{Packages: 500, Policies: 300, PatchTitles: 20, PreStages: 5})
	if err != nil {
		return err
	}
	defer small.Close()
	rows := map[string][]lcSample{}
	order := []string{"audit", "prune --dry-run (one title)", "one-at-a-time reader, same reads", "audit at a tenth of the scale",
		"audit, 10 ms per policy read", "one-at-a-time reader, 10 ms per policy read"}
	for i := 0; i < runs; i++ { // alternating, so drift hits every row alike
		for _, name := range order {
			var s lcSample
			var err error
			switch name {
			case order[0]:
				s, err = measureCLI(big, bin, "audit", "--json", "--url", big.URL)
			case order[1]:
				s, err = measureCLI(big, bin, "prune", "--dry-run", "--match", prefix, "--keep", "3", "--url", big.URL)
			case order[2]:
				s, err = sequentialReads(big)
			case order[3]:
				s, err = measureCLI(small, bin, "audit", "--json", "--url", small.URL)
			case order[4]: // a WAN's round trip on the reads that dominate
				big.Delay("GET /JSSResource/policies/id/", 10*time.Millisecond, fullScale.Policies)
				s, err = measureCLI(big, bin, "audit", "--json", "--url", big.URL)
			case order[5]:
				big.Delay("GET /JSSResource/policies/id/", 10*time.Millisecond, fullScale.Policies)
				s, err = sequentialReads(big)
			}
			big.ClearFaults()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			rows[name] = append(rows[name], s)
		}
	}
	fmt.Printf("\n### Lifecycle at scale (%d packages, %d policies, %d patch titles, %d PreStages; edge limit 4 in flight; median of %d)\n\n",
		fullScale.Packages, fullScale.Policies, fullScale.PatchTitles, fullScale.PreStages, runs)
	fmt.Println("| run | requests | wall | requests/s | most in flight | 429s | peak RSS |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	med := map[string]lcSample{}
	for _, name := range order {
		m := medianSample(rows[name])
		med[name] = m
		rss := "n/a (in-process)"
		if m.peakKiB > 0 {
			rss = humanKiB(m.peakKiB * 1024)
		}
		fmt.Printf("| %s | %d | %s | %.0f | %d | %d | %s |\n", name, m.requests, fs(m.wall),
			float64(m.requests)/m.wall.Seconds(), m.peak, m.limited, rss)
	}
	fmt.Printf("\naudit / one-at-a-time reader: %s of the time on loopback, %s with 10 ms per policy read; "+
		"audit's peak RSS at full / tenth scale: %.2fx\n", ratio(med[order[0]].wall, med[order[2]].wall),
		ratio(med[order[4]].wall, med[order[5]].wall), float64(med[order[0]].peakKiB)/float64(max(med[order[3]].peakKiB, 1)))
	return nil
}

func seeded(sc jamfsim.Scale) (*jamfsim.Server, string, error) {
	sim, err := jamfsim.New(jamfsim.Config{MaxInFlight: 4})
	if err != nil {
		return nil, "", err
	}
	prefix, err := sim.SeedRepository(context.Background(), sc)
	if err != nil {
		sim.Close()
		return nil, "", err
	}
	return sim, prefix, nil
}

func measureCLI(sim *jamfsim.Server, bin string, args ...string) (lcSample, error) {
	sim.ResetLog()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CLIENT_ID="+jamfsim.DefaultClientID, "CLIENT_SECRET="+jamfsim.DefaultClientSecret)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	m, err := jamfsim.Measure(cmd)
	if err != nil {
		return lcSample{}, fmt.Errorf("%v\n%s", err, stderr.String())
	}
	return sampleOf(sim, m.Wall, m.PeakKiB), nil
}

func sampleOf(sim *jamfsim.Server, wall time.Duration, kib int64) lcSample {
	s := lcSample{wall: wall, peakKiB: kib, peak: sim.PeakInFlight()}
	for _, e := range sim.Log() {
		s.requests++
		if e.Status == 429 {
			s.limited++
		}
	}
	return s
}

// sequentialReads sends audit's reads one at a time with a plain client.
func sequentialReads(sim *jamfsim.Server) (lcSample, error) {
	sim.ResetLog()
	start := time.Now()
	form := url.Values{"client_id": {jamfsim.DefaultClientID}, "client_secret": {jamfsim.DefaultClientSecret}, "grant_type": {"client_credentials"}}
	resp, err := http.PostForm(sim.URL+"/api/oauth/token", form)
	if err != nil {
		return lcSample{}, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	get := func(path, accept string, out any) error {
		req, _ := http.NewRequest("GET", sim.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		if out == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
	for page := 0; page*100 < fullScale.Packages; page++ {
		if err := get("/api/v1/packages?page="+strconv.Itoa(page)+"&page-size=100&sort=id%3Aasc", "application/json", nil); err != nil {
			return lcSample{}, err
		}
	}
	var list struct {
		Policies []struct{ ID int } `json:"policies"`
	}
	for _, p := range []string{"/api/v1/jcds/files", "/api/v2/patch-software-title-configurations"} {
		if err := get(p, "application/json", nil); err != nil {
			return lcSample{}, err
		}
	}
	if err := get("/JSSResource/policies", "application/json", &list); err != nil {
		return lcSample{}, err
	}
	for _, p := range list.Policies {
		if err := get("/JSSResource/policies/id/"+strconv.Itoa(p.ID), "application/json", nil); err != nil {
			return lcSample{}, err
		}
	}
	if err := get("/api/v3/computer-prestages?page=0&page-size=100&sort=id%3Aasc", "application/json", nil); err != nil {
		return lcSample{}, err
	}
	return sampleOf(sim, time.Since(start), 0), nil
}

func medianSample(s []lcSample) lcSample {
	c := append([]lcSample(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i].wall < c[j].wall })
	return c[len(c)/2]
}
