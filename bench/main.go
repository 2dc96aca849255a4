// Command bench measures jcds2-uploader the way users feel it, against
// its peers on this machine, side by side, and prints Markdown tables:
//
//	go run ./bench [-sizes 512M,1G,4G] [-runs 3] [-link-mibps 40]
//
// It starts MinIO and the simulator (with a timestamping proxy in front
// of its Jamf Pro API), makes incompressible test files, and runs,
// alternating, for each size: ours end to end (the real binary, `pkg
// --json -v`: token, lookups, credentials, upload, the waits for Jamf
// Pro, record, refresh, verify), the bare S3 upload (jcds2.BareUpload:
// our uploader and part plan alone), boto3's upload_file with its
// default transfer settings (what JamfPackageUploader's jcds2 mode did;
// Debian's python3-boto3) and `aws s3 cp` (Debian's awscli), all to the
// same MinIO with the same STS credentials; then an unchanged re-run of
// ours. It does it all again through a token-bucket proxy standing for
// a 40 MiB/s uplink (the link-bound rows), measures how the
// verification notices a server that becomes ready late (the cadence
// rows), and times the hashes.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

type config struct {
	sizes, linkSizes []int64
	runs             int
	conc, partMB     int
	linkMiBps        float64
	peers, cadence   bool
	hash, bareOnly   bool
	tune             []plan // -tune: bare uploads only, alternating these
}

// plan is a part size (MiB) and a concurrency.
type plan struct{ partMB, conc int }

func main() {
	sizes := flag.String("sizes", "512M,1G,4G", "file sizes on loopback (K, M, G suffixes)")
	linkSizes := flag.String("link-sizes", "", "file sizes through the throttled link (default: -sizes; \"none\" to skip)")
	runs := flag.Int("runs", 3, "alternating runs per tool (the median is reported)")
	conc := flag.Int("concurrency", 0, "jcds2_concurrency for ours and the bare upload (0: default)")
	part := flag.Int("part-mb", 0, "jcds2_part_size_mb for ours and the bare upload (0: default)")
	link := flag.Float64("link-mibps", 40, "the link-bound rows' uplink, MiB/s")
	peers := flag.Bool("peers", true, "also run boto3 and aws s3 cp")
	cad := flag.Bool("cadence", true, "measure the verification's cadence (about a minute)")
	hash := flag.Bool("hash", true, "time the hashes")
	bareOnly := flag.Bool("bare-only", false, "only the bare upload on loopback (for tuning part size and concurrency)")
	tune := flag.String("tune", "", "bare uploads only, alternating part size x concurrency plans, e.g. 8x2,8x3,8x4,16x2")
	flag.Parse()
	if *tune != "" {
		*bareOnly = true
	}
	cfg := config{runs: max(*runs, 1), conc: *conc, partMB: *part, linkMiBps: *link, peers: *peers && !*bareOnly,
		cadence: *cad && !*bareOnly, hash: *hash && !*bareOnly, bareOnly: *bareOnly}
	var err error
	if cfg.sizes, err = parseSizes(*sizes); err == nil {
		switch {
		case *bareOnly || *linkSizes == "none":
		case *linkSizes == "":
			cfg.linkSizes = cfg.sizes
		default:
			cfg.linkSizes, err = parseSizes(*linkSizes)
		}
	}
	if *tune != "" && err == nil {
		for _, p := range strings.Split(*tune, ",") {
			var pl plan
			if _, e := fmt.Sscanf(p, "%dx%d", &pl.partMB, &pl.conc); e != nil || pl.partMB < 5 || pl.conc < 1 {
				err = fmt.Errorf("-tune %q: want part MiB x concurrency, e.g. 8x3", p)
				break
			}
			cfg.tune = append(cfg.tune, pl)
		}
	}
	if err == nil {
		err = withLifecycle(func() error { return run(cfg) }, cfg.runs) // lifecycle.go
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseSizes(list string) ([]int64, error) {
	var out []int64
	for _, s := range strings.Split(list, ",") {
		n, err := parseSize(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("size %q: want e.g. 512M or 4G", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// The tools, in the order they run in each round.
const (
	toolOurs  = "ours end to end"
	toolBare  = "bare upload (ours)"
	toolBoto3 = "boto3 upload_file"
	toolAWS   = "aws s3 cp"
	toolRerun = "ours, unchanged re-run"
)

// sample is one run of one tool.
type sample struct {
	proc
	ph       phases // ours only
	requests int    // Jamf requests (ours only)
}

// own is the time that is the tool's own: for ours, the wall time less
// the waits for Jamf Pro, plus what of them came after the server was
// ready; for the others, the wall time.
func (s sample) own() time.Duration {
	if s.requests > 0 {
		return s.ph.own
	}
	return s.wall
}

type results map[string][]sample // by tool

func run(cfg config) error {
	dir, err := os.MkdirTemp("", "jcds2-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := buildBinary(dir)
	if err != nil {
		return err
	}
	py, aws := "", ""
	if cfg.peers {
		py, aws = peersInstalled()
	}
	mp, err := jamfsim.StartMinIO()
	if err != nil {
		return err
	}
	defer mp.Stop()
	st, err := newStage(mp, jamfsim.Config{DirectS3: true})
	if err != nil {
		return err
	}
	defer st.Close()
	host, _ := url.Parse(st.sim.S3Endpoint())
	lp, err := newLinkProxy(host.Host, cfg.linkMiBps*(1<<20))
	if err != nil {
		return err
	}
	defer lp.Close()

	fmt.Printf("Machine: %d cores, %s/%s, %s, shared with other work; MinIO on the same machine at %s; peers: %s. %s.\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), st.sim.S3Endpoint(), peerVersions(py, aws), time.Now().UTC().Format("2006-01-02"))

	tools := []string{toolOurs, toolBare}
	if cfg.bareOnly {
		tools = []string{toolBare}
	}
	if py != "" {
		tools = append(tools, toolBoto3)
	}
	if aws != "" {
		tools = append(tools, toolAWS)
	}
	files := map[int64]string{}
	fileFor := func(size int64) (string, error) {
		if f, ok := files[size]; ok {
			return f, nil
		}
		f := filepath.Join(dir, "bench-"+jamfsim.HumanSize(size)+".pkg")
		files[size] = f
		return f, makeFile(f, size)
	}
	measureAll := func(label, s3 string, sizes []int64) (map[int64]results, error) {
		out := map[int64]results{}
		st.s3 = s3
		for _, size := range sizes {
			file, err := fileFor(size)
			if err != nil {
				return nil, err
			}
			res := results{}
			for i := range cfg.runs {
				for _, tool := range tools {
					s, err := runTool(st, cfg, tool, bin, py, aws, file, dir, size, i, res)
					if err != nil {
						return nil, fmt.Errorf("%s, %s, %s: %w", label, jamfsim.HumanSize(size), tool, err)
					}
					fmt.Fprintf(os.Stderr, "  %s %s %s run %d: %.2f s\n", label, jamfsim.HumanSize(size), tool, i+1, s.wall.Seconds())
				}
			}
			out[size] = res
		}
		return out, nil
	}
	if len(cfg.tune) > 0 {
		return tuneTable(st, cfg, fileFor)
	}
	loop, err := measureAll("loopback", st.sim.S3Endpoint(), cfg.sizes)
	if err != nil {
		return err
	}
	linked, err := measureAll(fmt.Sprintf("link %.0f MiB/s", cfg.linkMiBps), lp.URL, cfg.linkSizes)
	if err != nil {
		return err
	}
	var cads []cadence
	if cfg.cadence {
		if cads, err = cadences(mp, bin, dir); err != nil {
			return err
		}
	}

	printLoopback(cfg, loop, tools)
	if !cfg.bareOnly {
		printBreakdown(cfg, loop, "Where our own time goes, loopback")
	}
	if len(cfg.linkSizes) > 0 {
		printLink(cfg, linked, tools)
		printBreakdown(cfg, linked, fmt.Sprintf("Where our own time goes, %.0f MiB/s link", cfg.linkMiBps))
	}
	if len(cads) > 0 {
		printCadence(cads)
	}
	if cfg.hash {
		return hashTable(filepath.Join(dir, "bench-hash.bin"), cfg.runs)
	}
	return nil
}

// runTool runs one tool once and files the sample under res.
func runTool(st *stage, cfg config, tool, bin, py, aws, file, dir string, size int64, i int, res results) (sample, error) {
	key := fmt.Sprintf("bench-%s-%d-%d.pkg", jamfsim.HumanSize(size), i, time.Now().UnixNano())
	var s sample
	var err error
	switch tool {
	case toolOurs:
		o := oursOpts{bin: bin, file: file, name: key, cache: filepath.Join(dir, "cache-"+key), conc: cfg.conc, partMB: cfg.partMB}
		if s, err = ours(st, o, "uploaded, verified"); err != nil {
			return s, err
		}
		res[toolOurs] = append(res[toolOurs], s)
		// The same package again, unchanged: nothing to upload.
		var re sample
		if re, err = ours(st, o, "unchanged"); err != nil {
			return s, fmt.Errorf("unchanged re-run: %w", err)
		}
		res[toolRerun] = append(res[toolRerun], re)
		// MinIO's disk is not infinite: the record and its file go.
		return s, deletePackage(st.sim, s.ph.pkgID)
	case toolBare:
		s.proc, err = runBare(st, file, key, cfg.conc, cfg.partMB)
	case toolBoto3:
		s.proc, err = runBoto3(st, py, file, key)
	case toolAWS:
		s.proc, err = runAWS(st, aws, file, key)
	}
	removeUploads(st.sim)
	res[tool] = append(res[tool], s)
	return s, err
}

func ours(st *stage, o oursOpts, want string) (sample, error) {
	r, err := runOurs(st, o)
	if err != nil {
		return sample{}, err
	}
	if r.status != want {
		return sample{}, fmt.Errorf("status %q, want %q", r.status, want)
	}
	ph, err := cut(r)
	if err != nil {
		return sample{}, err
	}
	ph.pkgID = r.pkgID
	return sample{proc: r.proc, ph: ph, requests: len(r.stamps)}, nil
}

// cadences measures the verification against servers that become
// ready 2, 10 and 45 s after the upload, on both routes, all at once
// (each its own simulator; the files are small).
func cadences(mp *jamfsim.MinIOProcess, bin, dir string) ([]cadence, error) {
	type job struct {
		route string
		delay time.Duration
	}
	var jobs []job
	for _, route := range []string{"jcds", "packages"} {
		for _, d := range []time.Duration{2 * time.Second, 10 * time.Second, 45 * time.Second} {
			jobs = append(jobs, job{route, d})
		}
	}
	out := make([]cadence, len(jobs))
	errs := make(chan error, len(jobs))
	for i, j := range jobs {
		go func() {
			var err error
			out[i], err = measureCadence(mp, bin, dir, j.route, j.delay)
			errs <- err
		}()
	}
	var first error
	for range jobs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	if len(c)%2 == 0 {
		return (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
	return c[len(c)/2]
}

// med is the median of f over the samples.
func med(s []sample, f func(sample) time.Duration) time.Duration {
	var ds []time.Duration
	for _, x := range s {
		ds = append(ds, f(x))
	}
	return medianOf(ds)
}

func maxRSS(s []sample) int64 {
	m := int64(0)
	for _, x := range s {
		m = max(m, x.rss)
	}
	return m
}

func fs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b time.Duration) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a.Seconds()/b.Seconds())
}

func wallOf(x sample) time.Duration   { return x.wall }
func ownOf(x sample) time.Duration    { return x.own() }
func waitedOf(x sample) time.Duration { return x.ph.waited }

func printLoopback(cfg config, all map[int64]results, tools []string) {
	fmt.Printf("Loopback (MinIO on this machine), medians of %d alternating runs:\n\n", cfg.runs)
	fmt.Println("| size | tool | wall | of it waiting for Jamf Pro | own time | own throughput | own vs aws s3 cp | own vs bare upload | peak RSS | Jamf requests |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, size := range cfg.sizes {
		res := all[size]
		aws, bare := med(res[toolAWS], ownOf), med(res[toolBare], ownOf)
		for _, tool := range append(tools, toolRerun) {
			s := res[tool]
			if len(s) == 0 {
				continue
			}
			own := med(s, ownOf)
			waiting, rss, reqs, thr := "–", "–", "–", "–"
			if s[0].requests > 0 {
				waiting = fs(med(s, waitedOf))
				reqs = strconv.Itoa(medianInt(s, func(x sample) int { return x.requests }))
			}
			if r := maxRSS(s); r > 0 {
				rss = fmt.Sprintf("%d MiB", (r+1023)/1024)
			}
			if tool != toolRerun {
				thr = fmt.Sprintf("%.0f MiB/s", float64(size)/(1<<20)/own.Seconds())
			}
			vsAWS, vsBare := ratio(own, aws), ratio(own, bare)
			if tool == toolRerun {
				vsAWS, vsBare = "–", "–"
				reqs += fmt.Sprintf("; read %s", humanKiB(maxRchar(s)))
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", jcds2.HumanBytes(size), tool, fs(med(s, wallOf)), waiting, fs(own), thr, vsAWS, vsBare, rss, reqs)
		}
	}
	fmt.Println()
}

func maxRchar(s []sample) int64 {
	m := int64(0)
	for _, x := range s {
		m = max(m, x.rchar)
	}
	return m
}

func humanKiB(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)/1024)
	}
	return jcds2.HumanBytes(n)
}

func medianInt(s []sample, f func(sample) int) int {
	var ds []time.Duration
	for _, x := range s {
		ds = append(ds, time.Duration(f(x)))
	}
	return int(medianOf(ds))
}

func printBreakdown(cfg config, all map[int64]results, title string) {
	fmt.Printf("%s (ours end to end, medians of each part):\n\n", title)
	fmt.Println("| size | process start to first request | requests before the upload | the upload | requests after it, and exit | waits for Jamf Pro | of them, overshoot | own time | bare upload |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	sizes := cfg.sizes
	if !strings.HasPrefix(title, "Where our own time goes, loopback") {
		sizes = cfg.linkSizes
	}
	for _, size := range sizes {
		s := all[size][toolOurs]
		if len(s) == 0 {
			continue
		}
		f := func(g func(phases) time.Duration) string {
			return fs(med(s, func(x sample) time.Duration { return g(x.ph) }))
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", jcds2.HumanBytes(size),
			f(func(p phases) time.Duration { return p.start }), f(func(p phases) time.Duration { return p.before }),
			f(func(p phases) time.Duration { return p.upload }), f(func(p phases) time.Duration { return p.after }),
			f(func(p phases) time.Duration { return p.waited }), f(func(p phases) time.Duration { return p.overshoot }),
			fs(med(s, ownOf)), fs(med(all[size][toolBare], wallOf)))
	}
	fmt.Println()
}

func printLink(cfg config, all map[int64]results, tools []string) {
	rate := cfg.linkMiBps * (1 << 20)
	fmt.Printf("Link-bound: every S3 byte through a %.0f MiB/s token bucket on loopback, medians of %d alternating runs; the limit is size ÷ bandwidth, the target 1.05 × limit + 1 s:\n\n", cfg.linkMiBps, cfg.runs)
	fmt.Println("| size | tool | wall | own time | own ÷ limit | limit | target | peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, size := range cfg.linkSizes {
		limit := time.Duration(float64(size) / rate * float64(time.Second))
		target := time.Duration(float64(limit)*1.05) + time.Second
		for _, tool := range tools {
			s := all[size][tool]
			if len(s) == 0 {
				continue
			}
			own := med(s, ownOf)
			rss := "–"
			if r := maxRSS(s); r > 0 {
				rss = fmt.Sprintf("%d MiB", (r+1023)/1024)
			}
			mark := ""
			if tool == toolOurs {
				mark = map[bool]string{true: " (met)", false: " (missed)"}[own <= target]
			}
			fmt.Printf("| %s | %s | %s | %s | %.3f× | %s | %s%s | %s |\n", jcds2.HumanBytes(size), tool, fs(med(s, wallOf)), fs(own),
				own.Seconds()/limit.Seconds(), fs(limit), fs(target), mark, rss)
		}
	}
	fmt.Println()
}

func printCadence(cads []cadence) {
	fmt.Println("Verification cadence: a 1 MiB package, the simulator ready a set delay after the upload (IngestDelay); overshoot is ready to the arrival of the poll that saw it:")
	fmt.Println()
	fmt.Println("| route | wait for | server ready after | wait (client-timed) | overshoot | bound max(0.5 s, 10%) | requests in the wait | most in any second (±10 ms) | shortest gap after 30 s | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, c := range cads {
		gap := "–"
		if c.after30 > 0 {
			gap = fs(c.after30)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %d | %d | %s | %s |\n", c.route, c.wait.what, fs(c.delay), fs(c.wait.took),
			fmt.Sprintf("%.3f s", c.wait.overshoot.Seconds()), fs(c.bound), c.requests, c.perSecond, gap, map[bool]string{true: "yes", false: "no"}[c.met()])
	}
	fmt.Println()
}

// makeFile writes pseudo-random bytes (incompressible, like a package).
func makeFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{byte(size), byte(size >> 20), byte(size >> 30)})
	buf := make([]byte, 4<<20)
	for left := size; left > 0; {
		n := min(int64(len(buf)), left)
		rng.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	return f.Close()
}

// hashTable times MD5 alone, SHA3-512 alone, and both in one pass.
func hashTable(path string, runs int) error {
	const size = 1 << 30
	if err := makeFile(path, size); err != nil {
		return err
	}
	type c struct {
		name      string
		md5, sha3 bool
	}
	cases := []c{{"MD5 alone", true, false}, {"SHA3-512 alone", false, true}, {"MD5 + SHA3-512, one pass", true, true}}
	times := map[string][]time.Duration{}
	for range runs {
		for _, k := range cases {
			start := time.Now()
			if _, err := jcds2.HashFile(path, k.md5, k.sha3); err != nil {
				return err
			}
			times[k.name] = append(times[k.name], time.Since(start))
		}
	}
	med := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	slower := max(med(times["MD5 alone"]), med(times["SHA3-512 alone"]))
	fmt.Println("| hashing 1 GiB | median | throughput | vs the slower alone |")
	fmt.Println("|---|---|---|---|")
	for _, k := range cases {
		m := med(times[k.name])
		fmt.Printf("| %s | %.2f s | %.0f MiB/s | %.2f× throughput |\n", k.name, m.Seconds(), 1024/m.Seconds(), slower.Seconds()/m.Seconds())
	}
	return nil
}

// tuneTable times the bare upload for each plan, alternating, and
// prints the throughput medians (the part buffers' memory is part size
// × (concurrency + 2): the uploader reads the first part outside its
// pool of concurrency + 1).
func tuneTable(st *stage, cfg config, fileFor func(int64) (string, error)) error {
	fmt.Printf("Bare upload (jcds2.BareUpload) on loopback, medians of %d alternating runs:\n\n", cfg.runs)
	fmt.Println("| size | part size × concurrency | median | throughput | part buffers at most |")
	fmt.Println("|---|---|---|---|---|")
	for _, size := range cfg.sizes {
		file, err := fileFor(size)
		if err != nil {
			return err
		}
		times := map[plan][]time.Duration{}
		for i := range cfg.runs {
			for _, p := range cfg.tune {
				key := fmt.Sprintf("tune-%d-%dx%d-%d.pkg", i, p.partMB, p.conc, time.Now().UnixNano())
				s, err := runBare(st, file, key, p.conc, p.partMB)
				if err != nil {
					return err
				}
				removeUploads(st.sim)
				times[p] = append(times[p], s.wall)
				fmt.Fprintf(os.Stderr, "  %s %d MiB x %d run %d: %.2f s\n", jamfsim.HumanSize(size), p.partMB, p.conc, i+1, s.wall.Seconds())
			}
		}
		for _, p := range cfg.tune {
			m := medianOf(times[p])
			fmt.Printf("| %s | %d MiB × %d | %s | %.0f MiB/s | %d MiB |\n", jcds2.HumanBytes(size), p.partMB, p.conc, fs(m), float64(size)/(1<<20)/m.Seconds(), p.partMB*(p.conc+2))
		}
	}
	fmt.Println()
	return nil
}
