// Command bench measures jcds2-uploader the way users feel it, against
// its peers on this machine, side by side, and prints Markdown tables:
//
//	go run ./bench [-sizes 1G] [-links 250x80,250x400,250x800,100x100] [-runs 3] [-short | -long]
//
// The default links model 1 Gbit/s at 20, 100 and 200 ms slowed four
// times (250 Mbit/s, four times the round trip), which this shared
// 2-core machine can carry: the ratios are the real link's, the seconds
// four times its. Their rows name the link they model.
//
// It starts MinIO and the simulator (with a timestamping proxy in front
// of its Jamf Pro API), makes incompressible test files, and runs,
// alternating, for each size on loopback: ours end to end (the real
// binary, `pkg --json -v`: token, lookups, credentials, upload, the
// waits for Jamf Pro, record, refresh, verify) by JCDS 2.0 and by the
// packages route, the bare S3 upload (jcds2.BareUpload: our uploader and
// part plan alone), boto3's upload_file with its default transfer
// settings (what JamfPackageUploader's jcds2 mode did; Debian's
// python3-boto3), `aws s3 cp` (Debian's awscli) and md5sum (the CPU
// floor), all to the same MinIO with the same STS credentials; then an
// unchanged re-run of ours; with the CPU each spent. Then it runs ours
// (both routes) and the peers again over modelled links (link.go: a
// bandwidth cap, a round trip and a per-connection window, on the S3
// side and in front of Jamf Pro), measures how the verification
// notices a server that becomes ready late (the cadence rows), and
// times the hashes. With -trace it runs ours once over each link with
// every S3 request stamped at the server (trace.go) and prints where the
// run's seconds went.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
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
	links            []linkSpec
	peers, cadence   bool
	hash, bareOnly   bool
	tune             []plan // -tune: bare uploads only, alternating these
	trace            bool   // -trace: one traced run of ours by JCDS 2.0 per link
	pkgRoute         bool   // ours by the packages route too
}

// defaultLinks are the links `go run ./bench` models: 1 Gbit/s with
// 20, 100 and 200 ms of round trip slowed four times (docs/performance.md:
// 250 Mbit/s with four times the round trip and the same window needs
// the same connections and keeps every ratio), and 100 Mbit/s, 100 ms.
const defaultLinks = "250x80,250x400,250x800,100x100"

// plan is a part size (MiB) and a concurrency.
type plan struct{ partMB, conc int }

func main() {
	sizes := flag.String("sizes", "1G", "file sizes on loopback (K, M, G suffixes; \"none\" to skip)")
	linkSizes := flag.String("link-sizes", "1G", "file sizes over the modelled links (\"none\" to skip)")
	links := flag.String("links", defaultLinks, "modelled links: Mbit/s x RTT ms, comma-separated. The default models 1 Gbit/s at 20, 100 and 200 ms\n"+
		"slowed four times (250 Mbit/s, four times the round trip: the same connections fill it, every ratio holds, every time is 4x;\n"+
		"a shared 2-core machine cannot carry 1 Gbit/s through the proxy, MinIO and the client), and 100 Mbit/s at 100 ms at its rate.\n"+
		"Give 1000x20,1000x100,1000x200 for the full rate on a machine that can carry it")
	window := flag.String("window", "4M", "the links' window per connection (throughput per connection at most window/RTT)")
	long := flag.Bool("long", false, "4 GiB instead of 1 GiB on loopback and over the links")
	short := flag.Bool("short", false, "512 MiB on loopback, 256 MiB over the links, no cadence, no hashing; flags given win")
	runs := flag.Int("runs", 3, "alternating runs per tool (the median is reported)")
	conc := flag.Int("concurrency", 0, "jcds2_concurrency for ours and the bare upload (0: default)")
	part := flag.Int("part-mb", 0, "jcds2_part_size_mb for ours and the bare upload (0: default)")
	peers := flag.Bool("peers", true, "also run boto3 and aws s3 cp")
	cad := flag.Bool("cadence", true, "measure the verification's cadence (about a minute)")
	hash := flag.Bool("hash", true, "time the hashes")
	bareOnly := flag.Bool("bare-only", false, "only the bare upload on loopback (for tuning part size and concurrency)")
	tune := flag.String("tune", "", "bare uploads only, alternating part size x concurrency plans, e.g. 0x0,8x3,8x10 (0: the default rule's)")
	trace := flag.Bool("trace", false, "only one run of ours by JCDS 2.0 over each link, its S3 requests stamped: the timeline and where its seconds went")
	pkgRoute := flag.Bool("packages-route", true, "also run ours by the packages route (one connection: slow over long round trips)")
	flag.Parse()
	if *short {
		given := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
		for name, v := range map[string]string{"sizes": "512M", "link-sizes": "256M", "cadence": "false", "hash": "false"} {
			if !given[name] {
				flag.Set(name, v)
			}
		}
	}
	if *tune != "" {
		*bareOnly = true
	}
	cfg := config{runs: max(*runs, 1), conc: *conc, partMB: *part, peers: *peers && !*bareOnly,
		cadence: *cad && !*bareOnly && !*trace, hash: *hash && !*bareOnly && !*trace, bareOnly: *bareOnly, trace: *trace, pkgRoute: *pkgRoute}
	if *long {
		*sizes, *linkSizes = "4G", "4G"
	}
	var err error
	if cfg.sizes, err = parseSizes(*sizes); err == nil {
		cfg.linkSizes, err = parseSizes(*linkSizes)
	}
	if *bareOnly && *tune == "" {
		cfg.linkSizes = nil
	}
	var w int64
	if err == nil {
		if w, err = parseSize(*window); err == nil && w <= 0 {
			err = fmt.Errorf("-window %q: want a size, e.g. 4M", *window)
		}
	}
	if err == nil && len(cfg.linkSizes) > 0 {
		cfg.links, err = parseLinks(*links, int(w))
	}
	if *tune != "" && err == nil {
		for _, p := range strings.Split(*tune, ",") {
			var pl plan
			if _, e := fmt.Sscanf(p, "%dx%d", &pl.partMB, &pl.conc); e != nil || (pl.partMB != 0 && pl.partMB < 5) || pl.conc < 0 {
				err = fmt.Errorf("-tune %q: want part MiB x concurrency, e.g. 8x3 (0 for the default: 0x0)", p)
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
	if list == "none" {
		return nil, nil
	}
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
	toolOurs    = "ours end to end (JCDS 2.0)"
	toolOursPkg = "ours end to end (packages route)"
	toolBare    = "bare upload (ours)"
	toolBoto3   = "boto3 upload_file"
	toolAWS     = "aws s3 cp"
	toolMD5     = "md5sum (the floor)"
	toolRerun   = "ours, unchanged re-run"
)

// sample is one run of one tool.
type sample struct {
	proc
	ph       phases // ours only
	requests int    // Jamf requests (ours only)
	streams  int    // connections the upload used at once (ours: as it logged)
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

// upload is the upload alone: for ours, as the Jamf Pro side saw it
// (from the credentials' answer, or the packages POST, to the next
// request); for the others, the wall time.
func (s sample) upload() time.Duration {
	if s.requests > 0 {
		return s.ph.upload
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
	s3Host, _ := url.Parse(st.sim.S3Endpoint())
	jamfHost, _ := url.Parse(st.clock.URL)

	fmt.Printf("Machine: %d cores, %s/%s, %s, shared with other work; MinIO on the same machine at %s; peers: %s. %s.\n\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), st.sim.S3Endpoint(), peerVersions(py, aws), time.Now().UTC().Format("2006-01-02"))

	ourTools := []string{toolOurs}
	if cfg.pkgRoute {
		ourTools = append(ourTools, toolOursPkg)
	}
	tools := append(append([]string(nil), ourTools...), toolBare)
	if cfg.bareOnly {
		tools = []string{toolBare}
	}
	var peers []string
	if py != "" {
		peers = append(peers, toolBoto3)
	}
	if aws != "" {
		peers = append(peers, toolAWS)
	}
	tools = append(tools, peers...)
	if !cfg.bareOnly {
		tools = append(tools, toolMD5)
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
	measureAll := func(label string, tools []string, sizes []int64) (map[int64]results, error) {
		out := map[int64]results{}
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
					fmt.Fprintf(os.Stderr, "  %s %s %s run %d: %.2f s, CPU %.2f s\n", label, jamfsim.HumanSize(size), tool, i+1, s.wall.Seconds(), s.cpu.Seconds())
				}
			}
			out[size] = res
		}
		return out, nil
	}
	if len(cfg.tune) > 0 {
		return tuneTable(st, cfg, fileFor, s3Host.Host)
	}
	if cfg.trace {
		for _, spec := range cfg.links {
			if err := traceLink(st, cfg, spec, bin, dir, s3Host.Host, jamfHost.Host, fileFor); err != nil {
				return err
			}
		}
		return nil
	}
	loop, err := measureAll("loopback", tools, cfg.sizes)
	if err != nil {
		return err
	}
	// Over each link: ours by both routes and the peers, every S3 byte
	// and every Jamf Pro request on the same modelled link.
	var linked []linkRows
	for _, spec := range cfg.links {
		l := newLink(spec)
		s3p, err := l.proxy(s3Host.Host)
		if err != nil {
			return err
		}
		jp, err := l.proxy(jamfHost.Host)
		if err != nil {
			return err
		}
		st.s3, st.jamf = s3p.URL, jp.URL
		res, err := measureAll(spec.String(), append(append([]string(nil), ourTools...), peers...), cfg.linkSizes)
		st.s3, st.jamf = st.sim.S3Endpoint(), st.clock.URL
		s3p.Close()
		jp.Close()
		if err != nil {
			return err
		}
		linked = append(linked, linkRows{spec: spec, res: res})
	}
	var cads []cadence
	if cfg.cadence {
		if cads, err = cadences(mp, bin, dir); err != nil {
			return err
		}
	}

	if len(cfg.sizes) > 0 {
		printLoopback(cfg, loop, tools)
		if !cfg.bareOnly {
			printCPU(cfg, loop)
			printBreakdown(cfg.sizes, loop, "Where our own time goes, loopback")
		}
	}
	if len(linked) > 0 {
		printLinks(cfg, linked)
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
	case toolOurs, toolOursPkg:
		o := oursOpts{bin: bin, file: file, name: key, cache: filepath.Join(dir, "cache-"+key), conc: cfg.conc, partMB: cfg.partMB,
			packagesRoute: tool == toolOursPkg}
		if s, err = ours(st, o, "uploaded, verified"); err != nil {
			return s, err
		}
		res[tool] = append(res[tool], s)
		if tool == toolOurs {
			// The same package again, unchanged: nothing to upload.
			var re sample
			if re, err = ours(st, o, "unchanged"); err != nil {
				return s, fmt.Errorf("unchanged re-run: %w", err)
			}
			res[toolRerun] = append(res[toolRerun], re)
		}
		// MinIO's disk is not infinite: the record and its file go.
		return s, deletePackage(st.sim, s.ph.pkgID)
	case toolBare:
		s.proc, err = runBare(st, file, key, cfg.conc, cfg.partMB)
		s.streams = cfg.conc
	case toolBoto3:
		s.proc, err = runBoto3(st, py, file, key)
		s.streams = 10 // boto3's default TransferConfig.max_concurrency
	case toolAWS:
		s.proc, err = runAWS(st, aws, file, key)
		s.streams = 10 // the CLI's default max_concurrent_requests
	case toolMD5:
		s.proc, err = measure(exec.Command("md5sum", file))
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
	return sample{proc: r.proc, ph: ph, requests: len(r.stamps), streams: r.streams}, nil
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

// tuneTable times the bare upload for each plan, alternating, on
// loopback and over each link, and prints the throughput medians.
func tuneTable(st *stage, cfg config, fileFor func(int64) (string, error), s3Host string) error {
	fmt.Printf("Bare upload (jcds2.BareUpload), medians of %d alternating runs; limit: size ÷ min(bandwidth, parts in flight × window ÷ RTT):\n\n", cfg.runs)
	fmt.Println("| link | size | part size × parts in flight | median | throughput | limit | median ÷ limit | size ÷ bandwidth |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	links := append([]linkSpec{{}}, cfg.links...) // loopback first
	for _, spec := range links {
		name, sizes := "loopback", cfg.sizes
		st.s3 = st.sim.S3Endpoint()
		if spec.mbit > 0 {
			p, err := newLink(spec).proxy(s3Host)
			if err != nil {
				return err
			}
			defer p.Close()
			name, sizes, st.s3 = spec.String(), cfg.linkSizes, p.URL
		}
		for _, size := range sizes {
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
					fmt.Fprintf(os.Stderr, "  %s %s %d MiB x %d run %d: %.2f s\n", name, jamfsim.HumanSize(size), p.partMB, p.conc, i+1, s.wall.Seconds())
				}
			}
			for _, p := range cfg.tune {
				m := medianOf(times[p])
				ps, conc := jcds2.PartPlan(size, int64(p.partMB)<<20, p.conc)
				label := fmt.Sprintf("%d MiB × %d", ps>>20, conc)
				if p.partMB == 0 || p.conc == 0 {
					label = "default: " + label
				}
				limit, ofLimit, link := "–", "–", "–"
				if spec.mbit > 0 {
					l := spec.limit(size, conc)
					limit, ofLimit, link = fs(l), fmt.Sprintf("%.2f×", m.Seconds()/l.Seconds()), fs(spec.limit(size, 0))
				}
				fmt.Printf("| %s | %s | %s | %s | %.0f MiB/s | %s | %s | %s |\n", name, jcds2.HumanBytes(size), label, fs(m), float64(size)/(1<<20)/m.Seconds(), limit, ofLimit, link)
			}
		}
	}
	fmt.Println()
	return nil
}
