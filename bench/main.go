// Command bench measures jcds2-uploader against its peers on this
// machine, side by side, and prints a table:
//
//	go run ./bench [-sizes 256M,1G] [-runs 3]
//
// It starts MinIO and the simulator, makes the test files, and runs,
// alternating, for each size: ours end to end (the real binary, processor
// mode: token, lookups, credentials, upload, refresh, verify, record),
// the bare S3 upload with our uploader and settings, boto3's upload_file
// with its default transfer settings (what JamfPackageUploader's jcds2
// mode did; Debian's python3-boto3) and `aws s3 cp` (Debian's awscli),
// all to the same MinIO with the same STS credentials. Missing peers are
// installed with apt-get when possible. Then it times the hashes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

func main() {
	sizes := flag.String("sizes", "256M,1G", "file sizes to test (K, M, G suffixes)")
	runs := flag.Int("runs", 3, "alternating runs per tool (the median is reported)")
	conc := flag.Int("concurrency", 0, "jcds2_concurrency for ours (0: default)")
	part := flag.Int("part-mb", 0, "jcds2_part_size_mb for ours (0: default)")
	peers := flag.Bool("peers", true, "also run boto3 and aws s3 cp")
	bareOnly := flag.Bool("bare-only", false, "only the bare upload (for tuning part size and concurrency)")
	flag.Parse()
	onlyBare = *bareOnly
	if err := run(*sizes, *runs, *conc, *part, *peers && !*bareOnly); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var onlyBare bool

type sample struct {
	wall   time.Duration
	ingest time.Duration // of wall, the simulated JCDS hashing the upload
	rss    int64         // KiB, 0 if unknown
	http   int
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

func run(sizeList string, runs, conc, part int, withPeers bool) error {
	dir, err := os.MkdirTemp("", "jcds2-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "jcds2-uploader")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("building: %v\n%s", err, out)
	}
	py, aws := "", ""
	if withPeers {
		py, aws = peersInstalled()
	}
	mp, err := jamfsim.StartMinIO()
	if err != nil {
		return err
	}
	defer mp.Stop()
	sim, err := jamfsim.New(jamfsim.Config{S3: mp.Backend(), DirectS3: true})
	if err != nil {
		return err
	}
	defer sim.Close()

	fmt.Printf("machine: %d cores, %s/%s, %s; MinIO at %s\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), mp.URL)
	type row struct {
		size int64
		tool string
		s    []sample
	}
	var rows []row
	for _, sz := range strings.Split(sizeList, ",") {
		size, err := parseSize(sz)
		if err != nil {
			return fmt.Errorf("size %q: %w", sz, err)
		}
		file := filepath.Join(dir, fmt.Sprintf("bench-%s.pkg", sz))
		if err := makeFile(file, size); err != nil {
			return err
		}
		tools := []string{"ours end to end", "bare S3 upload (ours)"}
		if onlyBare {
			tools = tools[1:]
		}
		if py != "" {
			tools = append(tools, "boto3 upload_file")
		}
		if aws != "" {
			tools = append(tools, "aws s3 cp")
		}
		results := map[string][]sample{}
		for i := range runs {
			for _, tool := range tools {
				var s sample
				var err error
				key := fmt.Sprintf("bench-%s-%d-%d.pkg", sz, i, time.Now().UnixNano())
				switch tool {
				case "ours end to end":
					s, err = runOurs(sim, bin, file, key, dir, conc, part)
				case "bare S3 upload (ours)":
					s, err = runBare(sim, file, key, conc, part)
				case "boto3 upload_file":
					s, err = runBoto3(sim, py, file, key)
				case "aws s3 cp":
					s, err = runAWS(sim, aws, file, key)
				}
				if err != nil {
					return fmt.Errorf("%s, %s: %w", tool, sz, err)
				}
				if tool != "ours end to end" {
					// Only ours is meant for JCDS; the simulator must not
					// spend our run ingesting the peers' objects.
					removeUploads(sim)
				}
				results[tool] = append(results[tool], s)
				fmt.Fprintf(os.Stderr, "  %s %s run %d: %s\n", sz, tool, i+1, s.wall.Round(time.Millisecond))
			}
		}
		var client []sample
		for _, x := range results["ours end to end"] {
			y := x
			y.wall -= x.ingest
			client = append(client, y)
		}
		if !onlyBare {
			results["ours, less simulated JCDS ingest"] = client
			tools = append(tools[:1], append([]string{"ours, less simulated JCDS ingest"}, tools[1:]...)...)
		}
		for _, tool := range tools {
			rows = append(rows, row{size: size, tool: tool, s: results[tool]})
		}
	}

	fmt.Println("| size | tool | median wall | throughput | peak RSS | vs boto3 | vs aws s3 cp | vs bare upload | Jamf HTTP calls |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	med := map[string]time.Duration{}
	for _, r := range rows {
		med[fmt.Sprint(r.size, r.tool)] = median(r.s).wall
	}
	for _, r := range rows {
		m := median(r.s)
		ratio := func(peer string) string {
			p, ok := med[fmt.Sprint(r.size, peer)]
			if !ok || p == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f×", m.wall.Seconds()/p.Seconds())
		}
		rss, calls := "–", "–"
		if m.rss > 0 {
			rss = fmt.Sprintf("%d MiB", (maxRSS(r.s)+1023)/1024)
		}
		if m.http > 0 {
			calls = strconv.Itoa(m.http)
		}
		fmt.Printf("| %s | %s | %.2f s | %.0f MiB/s | %s | %s | %s | %s | %s |\n", jcds2.HumanBytes(r.size), r.tool, m.wall.Seconds(),
			float64(r.size)/(1<<20)/m.wall.Seconds(), rss, ratio("boto3 upload_file"), ratio("aws s3 cp"), ratio("bare S3 upload (ours)"), calls)
	}
	fmt.Println()
	if onlyBare {
		return nil
	}
	return hashTable(filepath.Join(dir, "bench-hash.bin"), runs)
}

// removeUploads deletes what the peers put under tmp/.
func removeUploads(sim *jamfsim.Server) {
	ctx := context.Background()
	c := sim.Backend().Client()
	bucket := aws.String(sim.Config().Bucket)
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("tmp/")})
	if err != nil {
		return
	}
	known := map[string]bool{}
	for _, f := range sim.Files() {
		known[f.Key] = true
	}
	for _, o := range out.Contents {
		if !known[aws.ToString(o.Key)] {
			c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: o.Key})
		}
	}
}

func median(s []sample) sample {
	c := append([]sample(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i].wall < c[j].wall })
	return c[len(c)/2]
}

func maxRSS(s []sample) int64 {
	m := int64(0)
	for _, x := range s {
		m = max(m, x.rss)
	}
	return m
}

// makeFile writes pseudo-random bytes (incompressible, like a package).
func makeFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{byte(size)})
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

func timed(cmd *exec.Cmd) (sample, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	wall, rss, err := jamfsim.RunMeasured(cmd)
	s := sample{wall: wall, rss: rss}
	if err != nil {
		return s, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 5))
	}
	return s, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func runOurs(sim *jamfsim.Server, bin, file, key, dir string, conc, part int) (sample, error) {
	env := processor.Env{
		"JSS_URL": sim.URL, "CLIENT_ID": jamfsim.DefaultClientID, "CLIENT_SECRET": jamfsim.DefaultClientSecret,
		"pkg_path": file, "pkg_name": key, "RECIPE_CACHE_DIR": filepath.Join(dir, "cache-"+key),
		"jcds2_concurrency": strconv.Itoa(conc), "jcds2_part_size_mb": strconv.Itoa(part), "verbose": uint64(1),
	}
	data, _ := processor.EncodeEnv(env, processor.FormatBinary)
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+sim.S3Endpoint())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	sim.ResetLog()
	ingest := sim.IngestTime()
	s, err := timed(cmd)
	s.ingest = sim.IngestTime() - ingest
	if err != nil {
		return s, fmt.Errorf("%w\n%s", err, stderr.String())
	}
	out, _, err := processor.DecodeEnv(stdout.Bytes())
	if err != nil || out["pkg_upload_status"] != "uploaded, verified" {
		return s, fmt.Errorf("not verified: %v\n%s", out["pkg_upload_status"], stderr.String())
	}
	s.http = len(sim.Log())
	return s, nil
}

// credentials gets STS credentials the way every tool here does.
func credentials(sim *jamfsim.Server) (jamf.JCDSCredentials, error) {
	var cr jamf.JCDSCredentials
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {jamfsim.DefaultClientID}, "client_secret": {jamfsim.DefaultClientSecret}}
	resp, err := http.PostForm(sim.URL+"/api/v1/oauth/token", form)
	if err != nil {
		return cr, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ := http.NewRequest("POST", sim.URL+"/api/v1/jcds/files", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return cr, err
	}
	defer resp.Body.Close()
	return cr, json.NewDecoder(resp.Body).Decode(&cr)
}

func runBare(sim *jamfsim.Server, file, key string, conc, part int) (sample, error) {
	cr, err := credentials(sim)
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	err = jcds2.BareUpload(context.Background(), sim.S3Endpoint(), cr, cr.Path+key, file, int64(part)<<20, conc)
	return sample{wall: time.Since(start)}, err
}

const boto3Script = `
import sys, boto3
ak, sk, tok, region, endpoint, bucket, key, path = sys.argv[1:9]
s3 = boto3.client("s3", region_name=region, aws_access_key_id=ak, aws_secret_access_key=sk,
                  aws_session_token=tok, endpoint_url=endpoint)
s3.upload_file(path, bucket, key)  # default TransferConfig, as JamfPackageUploader's jcds2 mode
`

func runBoto3(sim *jamfsim.Server, py, file, key string) (sample, error) {
	cr, err := credentials(sim)
	if err != nil {
		return sample{}, err
	}
	cmd := exec.Command(py, "-c", boto3Script, cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken, cr.Region, sim.S3Endpoint(), cr.BucketName, cr.Path+key, file)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return timed(cmd)
}

func runAWS(sim *jamfsim.Server, aws, file, key string) (sample, error) {
	cr, err := credentials(sim)
	if err != nil {
		return sample{}, err
	}
	cmd := exec.Command(aws, "s3", "cp", "--only-show-errors", "--endpoint-url", sim.S3Endpoint(), file, "s3://"+cr.BucketName+"/"+cr.Path+key)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+cr.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+cr.SecretAccessKey,
		"AWS_SESSION_TOKEN="+cr.SessionToken, "AWS_DEFAULT_REGION="+cr.Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return timed(cmd)
}

// peersInstalled finds Debian's python3 with boto3 and Debian's aws,
// installing them with apt-get when missing.
func peersInstalled() (py, aws string) {
	ok := func() (string, string) {
		p, a := "", ""
		if exec.Command("/usr/bin/python3", "-c", "import boto3").Run() == nil {
			p = "/usr/bin/python3"
		}
		if exec.Command("/usr/bin/aws", "--version").Run() == nil {
			a = "/usr/bin/aws"
		}
		return p, a
	}
	if py, aws = ok(); py != "" && aws != "" {
		return py, aws
	}
	fmt.Fprintln(os.Stderr, "installing python3-boto3 and awscli with apt-get ...")
	exec.Command("apt-get", "update", "-qq").Run()
	exec.Command("apt-get", "install", "-y", "-qq", "python3-boto3", "awscli").Run()
	py, aws = ok()
	if py == "" || aws == "" {
		fmt.Fprintln(os.Stderr, "warning: a peer is missing; its column stays empty")
	}
	return py, aws
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
