package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// Big packages, on both routes, through the simulator with a 60-second
// token lifetime and 30-second S3 credentials: the binary uploads a
// sparse package of JCDS2_BIG_SIZE (default 4G, what fits in CI; 16G
// for the full check), renewing token and credentials as it goes, and
// the simulator's oracle must find the converged state, with the peak
// RSS at most 64 MiB and within 8 MiB of a 256 MiB upload's.
//
// The JCDS route sends its S3 bytes through a 40 MiB/s link
// (JCDS2_BIG_LINK_MIBPS; 0 for none) and the simulator's S3 proxy,
// which refuses expired credentials, so that the upload outlives the
// token twice over (4 GiB: 102 s). The packages route is one POST: no
// token can be renewed inside it, so the simulator takes 75 s to process
// the upload, and the token is renewed in the wait after it.
func TestBigPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads two big sparse packages (about 4 minutes); skipped with -short (CI runs it)")
	}
	size := int64(4 << 30)
	if v := os.Getenv("JCDS2_BIG_SIZE"); v != "" {
		var err error
		if size, err = parseSize(v); err != nil || size < 512<<20 {
			t.Fatalf("JCDS2_BIG_SIZE=%q: want a size of 512M or more, e.g. 16G", v)
		}
	}
	link := 40.0
	if v := os.Getenv("JCDS2_BIG_LINK_MIBPS"); v != "" {
		var err error
		if link, err = strconv.ParseFloat(v, 64); err != nil || link < 0 {
			t.Fatalf("JCDS2_BIG_LINK_MIBPS=%q: want MiB/s, 0 for no limit", v)
		}
	}
	dir := t.TempDir()
	big := sparseFile(t, dir, "Big.pkg", size)
	small := sparseFile(t, dir, "Small.pkg", 256<<20)
	// The oracle's hash of the big file, once, while the uploads run.
	oracle := sync.OnceValues(func() (string, error) {
		sha3, _, err := jamfsim.FileSHA3(big)
		return sha3, err
	})
	go oracle()

	for _, route := range []string{"jcds", "packages"} {
		t.Run(route, func(t *testing.T) {
			t.Parallel()
			// UnhashedAbove -1: the simulator hashes even 16 GiB, so
			// that the wait for Jamf's hash is measured too (real Jamf
			// may compute none past about 10 GiB).
			cfg := jamfsim.Config{TokenLifetime: time.Minute, CredentialLifetime: 30 * time.Second, UnhashedAbove: -1}
			if route == "packages" {
				cfg.IngestDelay = 75 * time.Second
			}
			st, err := newStage(testMinIO, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			st.jamf = st.sim.URL // no clock: the packages body need not pass it
			if route == "jcds" && link > 0 {
				u, _ := url.Parse(st.sim.S3Endpoint())
				lp, err := newLinkProxy(u.Host, link*(1<<20))
				if err != nil {
					t.Fatal(err)
				}
				defer lp.Close()
				st.s3 = lp.URL
			}
			opts := func(file, name string, extra ...string) oursOpts {
				// The simulator hashes a JCDS upload while it answers the
				// listing that first sees it (a real JCDS does it apart):
				// minutes for 16 GiB, so requests may wait that long.
				extra = append(extra, "--key", "jcds2_timeout=900")
				return oursOpts{bin: testBin, file: file, name: name, cache: filepath.Join(dir, "cache-"+route+"-"+name),
					packagesRoute: route == "packages", extra: extra}
			}
			// The baseline: 256 MiB, not waiting for the server.
			base, err := runOurs(st, opts(small, "Small-"+route+".pkg", "--key", "jcds2_verify_timeout=0"))
			if err != nil {
				t.Fatal(err)
			}
			st.sim.ResetLog()
			name := fmt.Sprintf("Big-%s-%s.pkg", route, jamfsim.HumanSize(size))
			r, err := runOurs(st, opts(big, name))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s route, %s: %s in %.1f s (upload %.1f s, waits %.1f s), peak RSS %d MiB (256 MiB: %d MiB)",
				route, jamfsim.HumanSize(size), r.status, r.wall.Seconds(), r.timings.Uploading, r.timings.Waiting, r.rss>>10, base.rss>>10)
			if r.status != "uploaded, verified" {
				t.Fatalf("status %q", r.status)
			}
			if r.rss > 64<<10 {
				t.Errorf("peak RSS %d MiB, over 64 MiB", r.rss>>10)
			}
			if d := r.rss - base.rss; d > 8<<10 {
				t.Errorf("peak RSS grew by %d MiB from 256 MiB to %s: not flat", d>>10, jamfsim.HumanSize(size))
			}
			tokens, creds, during := renewals(st.sim.Log(), route)
			t.Logf("token renewals %d, credential renewals %d (during the upload: %d tokens, %d credentials)", tokens, creds, during[0], during[1])
			if route == "jcds" && (during[0] < 2 || during[1] < 2) {
				t.Errorf("want at least 2 token and 2 credential renewals during the upload, saw %d and %d", during[0], during[1])
			}
			if route == "packages" && tokens < 2 {
				t.Errorf("want at least 2 token renewals, saw %d", tokens)
			}
			for _, e := range st.sim.Log() {
				if e.Status == 401 {
					t.Errorf("a token expired in use: %s", e)
				}
			}
			for _, e := range st.sim.S3Log() {
				if e.Status == 400 || e.Status == 403 {
					t.Errorf("S3 refused a request: %s", e)
				}
			}
			sha3, err := oracle()
			if err != nil {
				t.Fatal(err)
			}
			if err := st.sim.Converged(name, sha3, size); err != nil {
				t.Error(err)
			}
			if err := deletePackage(st.sim, r.pkgID); err != nil {
				t.Log(err) // only MinIO's disk suffers
			}
		})
	}
}

// sparseFile makes a file of size bytes that takes no disk: a hole, and
// one byte at the end.
func sparseFile(t *testing.T, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), size-1); err != nil {
		t.Fatal(err)
	}
	return p
}

// renewals counts the token requests after the first, the credential
// renewals, and both while the upload ran: on the JCDS route between
// the request for upload credentials and the next listing, on the
// packages route none (the upload is one request).
func renewals(log []jamfsim.LogEntry, route string) (tokens, creds int, during [2]int) {
	seenToken, uploading := false, false
	for _, e := range log {
		path, _, _ := strings.Cut(e.Path, "?")
		isToken := e.Method == "POST" && (path == "/api/v1/oauth/token" || path == "/api/v1/auth/token" || path == "/api/v1/auth/keep-alive")
		switch {
		case isToken && seenToken:
			tokens++
			if uploading {
				during[0]++
			}
		case isToken:
			seenToken = true
		case e.Method == "POST" && path == "/api/v1/jcds/renew-credentials":
			creds++
			if uploading {
				during[1]++
			}
		case route == "jcds" && e.Method == "POST" && path == "/api/v1/jcds/files":
			uploading = true
		case uploading && e.Method == "GET" && path == "/api/v1/jcds/files":
			uploading = false
		}
	}
	return tokens, creds, during
}
