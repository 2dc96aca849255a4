package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// stage is one simulator with the clock in front of its Jamf Pro API,
// storing into MinIO; jamf is the Jamf Pro URL our binary is given (the
// clock, or the simulator itself), s3 the endpoint the S3 clients are
// given (the simulator's, MinIO itself, or a link proxy in front).
type stage struct {
	sim   *jamfsim.Server
	clock *jamfClock
	jamf  string
	s3    string
	// s3clock, when set (-trace), stamps every S3 request on the
	// server's side of the link, for the timeline.
	s3clock *jamfClock
}

func newStage(mp *jamfsim.MinIOProcess, cfg jamfsim.Config) (*stage, error) {
	cfg.S3 = mp.Backend()
	if cfg.Bucket == "" {
		cfg.Bucket = fmt.Sprintf("bench%d", time.Now().UnixNano())
	}
	sim, err := jamfsim.New(cfg)
	if err != nil {
		return nil, err
	}
	clock, err := newJamfClock(sim.URL)
	if err != nil {
		sim.Close()
		return nil, err
	}
	return &stage{sim: sim, clock: clock, jamf: clock.URL, s3: sim.S3Endpoint()}, nil
}

func (st *stage) Close() {
	st.clock.Close()
	st.sim.Close()
}

// oursOpts are the settings of one run of our binary.
type oursOpts struct {
	bin, file, name, cache string
	conc, partMB           int
	packagesRoute          bool
	extra                  []string // more pkg flags
}

// timings is the "timings" object of `pkg --json`.
type timings struct {
	Seconds   float64 `json:"seconds"`
	Uploading float64 `json:"uploading_seconds"`
	Waiting   float64 `json:"waiting_seconds"`
	HTTP      int     `json:"http_requests"`
	Waits     []struct {
		For      string  `json:"for"`
		Seconds  float64 `json:"seconds"`
		Requests int     `json:"requests"`
	} `json:"waits"`
}

// oursRun is one run of our binary as the user sees it (the process),
// as it timed itself (timings), and as the server saw it (stamps).
type oursRun struct {
	proc
	status, pkgID string
	streams       int // parts at a time, as it logged (1 on the packages route)
	timings       timings
	stamps        []stamp
	s3stamps      []stamp   // with -trace
	due           time.Time // when the simulator had the upload ready (zero: unknown)
}

// runOurs runs `jcds2-uploader pkg --json -v` against st.
func runOurs(st *stage, o oursOpts) (oursRun, error) {
	args := []string{"pkg", "--pkg", o.file, "--pkg-name", o.name, "--json", "-v", "--key", "RECIPE_CACHE_DIR=" + o.cache}
	if o.conc > 0 {
		args = append(args, "--concurrency", strconv.Itoa(o.conc))
	}
	if o.partMB > 0 {
		args = append(args, "--key", "jcds2_part_size_mb="+strconv.Itoa(o.partMB))
	}
	if o.packagesRoute {
		args = append(args, "--api")
	}
	args = append(args, o.extra...)
	cmd := exec.Command(o.bin, args...)
	cmd.Env = append(os.Environ(), "JSS_URL="+st.jamf, "CLIENT_ID="+jamfsim.DefaultClientID,
		"CLIENT_SECRET="+jamfsim.DefaultClientSecret, "AWS_ENDPOINT_URL_S3="+st.s3, "API_USERNAME=", "API_PASSWORD=", "BEARER_TOKEN=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var mu sync.Mutex
	var due time.Time
	uploading := false
	st.clock.reset(func(r *http.Request) {
		// Once the upload has begun, read the simulator's own view of
		// when it will be ready, before the next request can change it.
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "POST" && (r.URL.Path == "/api/v1/jcds/files" || strings.HasSuffix(r.URL.Path, "/upload")):
			uploading = true
		case uploading && due.IsZero() && !isRenewal(r.Method, r.URL.Path):
			ups, _ := st.sim.Processing(context.Background())
			for _, u := range ups {
				if u.FileName == o.name {
					due = u.Due
				}
			}
		}
	})
	if st.s3clock != nil {
		st.s3clock.reset(nil)
	}
	p, err := measure(cmd)
	run := oursRun{proc: p, stamps: st.clock.stamps()}
	if st.s3clock != nil {
		run.s3stamps = st.s3clock.stamps()
	}
	st.clock.reset(nil)
	mu.Lock()
	run.due = due
	mu.Unlock()
	if err != nil {
		return run, fmt.Errorf("%w\n%s", err, lastLines(stderr.String(), 10))
	}
	var out struct {
		Status  string  `json:"pkg_upload_status"`
		ID      string  `json:"pkg_id"`
		Timings timings `json:"timings"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return run, fmt.Errorf("--json: %v\n%s", err, stdout.String())
	}
	run.status, run.pkgID, run.timings = out.Status, out.ID, out.Timings
	run.streams = 1
	if m := partsAtATime.FindStringSubmatch(stderr.String()); m != nil {
		run.streams, _ = strconv.Atoi(m[1])
	}
	return run, nil
}

// partsAtATime finds the JCDS route's "Uploading ... in 8.0 MiB parts, 3
// at a time" line.
var partsAtATime = regexp.MustCompile(`parts, (\d+) at a time`)

// isRenewal tells the requests an upload makes while it runs: a new
// token, new S3 credentials.
func isRenewal(method, path string) bool {
	return method == "POST" && (path == "/api/v1/oauth/token" || path == "/api/oauth/token" || path == "/api/v1/auth/token" ||
		path == "/api/v1/auth/keep-alive" || path == "/api/v1/jcds/renew-credentials")
}

// token gets a bearer token from the simulator.
func token(sim *jamfsim.Server) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {jamfsim.DefaultClientID}, "client_secret": {jamfsim.DefaultClientSecret}}
	resp, err := http.PostForm(sim.URL+"/api/v1/oauth/token", form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	return tok.AccessToken, json.NewDecoder(resp.Body).Decode(&tok)
}

// credentials gets JCDS upload credentials the way every tool here does.
func credentials(sim *jamfsim.Server) (jamf.JCDSCredentials, error) {
	var cr jamf.JCDSCredentials
	tok, err := token(sim)
	if err != nil {
		return cr, err
	}
	req, _ := http.NewRequest("POST", sim.URL+"/api/v1/jcds/files", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cr, err
	}
	defer resp.Body.Close()
	return cr, json.NewDecoder(resp.Body).Decode(&cr)
}

// deletePackage removes a record and its file (between runs: MinIO's
// disk is not infinite), as DELETE /api/v1/packages/{id} does.
func deletePackage(sim *jamfsim.Server, id string) error {
	tok, err := token(sim)
	if err != nil {
		return err
	}
	req, _ := http.NewRequest("DELETE", sim.URL+"/api/v1/packages/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("DELETE /api/v1/packages/%s: %s", id, resp.Status)
	}
	return nil
}

// removeUploads deletes what the peers put under tmp/: only ours is
// meant for JCDS, and the simulator must not spend our runs ingesting
// the peers' objects.
func removeUploads(sim *jamfsim.Server) {
	ctx := context.Background()
	c := sim.Backend().Client()
	bucket := aws.String(sim.Config().Bucket)
	known := map[string]bool{}
	for _, f := range sim.Files() {
		known[f.Key] = true
	}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("tmp/")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, o := range out.Contents {
			if !known[aws.ToString(o.Key)] {
				c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: o.Key})
			}
		}
	}
}

func runBare(st *stage, file, key string, conc, partMB int) (proc, error) {
	cr, err := credentials(st.sim)
	if err != nil {
		return proc{}, err
	}
	start := time.Now()
	err = jcds2.BareUpload(context.Background(), st.s3, cr, cr.Path+key, file, int64(partMB)<<20, conc)
	return proc{start: start, wall: time.Since(start)}, err
}

const boto3Script = `
import sys, boto3
ak, sk, tok, region, endpoint, bucket, key, path = sys.argv[1:9]
s3 = boto3.client("s3", region_name=region, aws_access_key_id=ak, aws_secret_access_key=sk,
                  aws_session_token=tok, endpoint_url=endpoint)
s3.upload_file(path, bucket, key)  # default TransferConfig, as JamfPackageUploader's jcds2 mode
`

func runBoto3(st *stage, py, file, key string) (proc, error) {
	cr, err := credentials(st.sim)
	if err != nil {
		return proc{}, err
	}
	cmd := exec.Command(py, "-c", boto3Script, cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken, cr.Region, st.s3, cr.BucketName, cr.Path+key, file)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return measure(cmd)
}

func runAWS(st *stage, aws, file, key string) (proc, error) {
	cr, err := credentials(st.sim)
	if err != nil {
		return proc{}, err
	}
	cmd := exec.Command(aws, "s3", "cp", "--only-show-errors", "--endpoint-url", st.s3, file, "s3://"+cr.BucketName+"/"+cr.Path+key)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+cr.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+cr.SecretAccessKey,
		"AWS_SESSION_TOKEN="+cr.SessionToken, "AWS_DEFAULT_REGION="+cr.Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return measure(cmd)
}

// peersInstalled finds Debian's python3 with boto3 and Debian's aws,
// installing them with apt-get when missing (PyPI is not needed).
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
		fmt.Fprintln(os.Stderr, "warning: a peer is missing; its rows stay empty")
	}
	return py, aws
}

// peerVersions says which boto3 and aws CLI ran.
func peerVersions(py, aws string) string {
	var parts []string
	if py != "" {
		if out, err := exec.Command(py, "-c", "import boto3, sys; print('boto3', boto3.__version__, 'on Python', sys.version.split()[0])").Output(); err == nil {
			parts = append(parts, strings.TrimSpace(string(out)))
		}
	}
	if aws != "" {
		if out, err := exec.Command(aws, "--version").Output(); err == nil {
			parts = append(parts, strings.Fields(string(out))[0])
		}
	}
	return strings.Join(parts, ", ")
}

// buildBinary builds our binary from the module root (the bench runs
// from the root with go run ./bench, the tests from bench/).
func buildBinary(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "jcds2-uploader")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(gomod), nil
}
