package distpoint_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/inflight"
)

// Hardening (issue #22), the self-hosted S3 distribution point.

// s3Put puts p on the bucket as the engine does, through S3Dest.
func s3Put(ctx context.Context, t distpoint.S3Target, p pkg) error {
	_, err := putS3(ctx, &distpoint.S3Dest{Target: t, Log: &recLog{}}, p)
	return err
}

// headStatus: the bucket exists (HeadBucket, which S3Dest asks first);
// no object does.
func headStatus(r *http.Request) int {
	if strings.Trim(r.URL.Path, "/") == "dp-bucket" {
		return http.StatusOK
	}
	return http.StatusNotFound
}

// aws_cdp_mode's client used to follow a 307 from https to plain http
// for HeadObject, sending the signed Authorization header again in clear
// text. Now no redirect is followed, from any request, and the message
// says which one was not.
func TestS3RedirectIsNeverFollowed(t *testing.T) {
	isolateAWS(t)
	var mu sync.Mutex
	var plainSeen []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		plainSeen = append(plainSeen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(200)
	}))
	defer plain.Close()
	for _, status := range []int{301, 302, 307, 308} {
		var tlsSeen []string
		front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			tlsSeen = append(tlsSeen, r.Method+" "+r.URL.Path)
			mu.Unlock()
			http.Redirect(w, r, plain.URL+r.URL.Path, status)
		}))
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREDIRECTTEST")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "redirect-secret-key-0123456789")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", front.URL)
		// The destination's first request is HeadBucket (main's S3Dest
		// asks for the bucket before the object).
		err := s3Put(context.Background(), distpoint.S3Target{Bucket: "dp-bucket", Insecure: true, MaxTries: 3},
			pkgFile(t, "Redirected.pkg", 1000, 1))
		front.Close()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if !strings.Contains(msg, "checking the bucket in bucket dp-bucket: S3 answered ") ||
			!strings.Contains(msg, "with a redirect to "+plain.URL+"/dp-bucket; not followed") {
			t.Fatalf("%d: %v", status, err)
		}
		if len(tlsSeen) != 1 || !strings.HasPrefix(tlsSeen[0], "HEAD ") {
			t.Fatalf("%d: a refused redirect is not retried: %v", status, tlsSeen)
		}
	}
	if len(plainSeen) != 0 {
		t.Fatalf("requests reached the plain http server: %v", plainSeen)
	}
}

// S3's naming rules, locally: "..." and its kin never reach a request.
func TestBucketNamesFollowS3Rules(t *testing.T) {
	bad := map[string]string{
		"...":                    "begin and end with a letter or digit",
		"a..b":                   "no two dots in a row",
		"-bucket":                "begin and end with a letter or digit",
		"bucket.":                "begin and end with a letter or digit",
		"192.168.5.4":            "cannot be an IP address",
		"xn--bucket":             "reserves the prefix xn--",
		"sthree-bucket":          "reserves the prefix sthree-",
		"amzn-s3-demo-bucket":    "reserves the prefix amzn-s3-demo-",
		"bucket-s3alias":         "reserves the suffix -s3alias",
		"bucket--ol-s3":          "reserves the suffix --ol-s3",
		"bucket.mrap":            "reserves the suffix .mrap",
		"bucket--x-s3":           "reserves the suffix --x-s3",
		"bucket--table-s3":       "reserves the suffix --table-s3",
		"Bucket":                 "only lower-case letters",
		"ab":                     "3 to 63",
		strings.Repeat("a", 64):  "3 to 63",
		"s3://my-bucket/":        "only lower-case letters",
		"bucket\r\nInjected: 1x": "only lower-case letters",
	}
	for name, want := range bad {
		err := distpoint.S3Target{Bucket: name}.Validate()
		if err == nil || !strings.Contains(err.Error(), want) || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%q: %v, want %q", name, err, want)
		}
	}
	for _, good := range []string{"my-jamf-packages", "a.b.c", "abc", "123", "jamf.example.com", strings.Repeat("a", 63)} {
		if err := (distpoint.S3Target{Bucket: good}).Validate(); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

// The rule holds for the upload itself, which carries the package and a
// signature: S3 answering the PUT with a 307 to plain http gets no second
// request, and the message names the redirect (#22, beyond the HeadObject
// of the report).
func TestS3UploadRedirectIsNeverFollowed(t *testing.T) {
	isolateAWS(t)
	var mu sync.Mutex
	var plainSeen []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		plainSeen = append(plainSeen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.WriteHeader(200)
	}))
	defer plain.Close()
	var puts int
	front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(headStatus(r))
			return
		}
		mu.Lock()
		puts++
		mu.Unlock()
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREDIRECTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "redirect-secret-key-0123456789")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL_S3", front.URL)
	err := s3Put(context.Background(), distpoint.S3Target{Bucket: "dp-bucket", Insecure: true, MaxTries: 3},
		pkgFile(t, "Put.pkg", 1000, 2))
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if !strings.Contains(msg, "S3 answered 307 with a redirect to "+plain.URL+"/dp-bucket/Put.pkg; not followed") {
		t.Fatalf("%v", err)
	}
	if puts != 1 || len(plainSeen) != 0 {
		t.Fatalf("%d PUTs to the endpoint, %v to plain http", puts, plainSeen)
	}
}

// fakeS3 answers a multipart upload's requests; parts hang until the
// client gives up, and the abort hangs when holdAbort.
type fakeS3 struct {
	mu        sync.Mutex
	aborts    int
	holdAbort bool
	partSeen  chan struct{}
	once      sync.Once
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodHead:
		w.WriteHeader(headStatus(r))
	case r.Method == http.MethodPost && q.Has("uploads"):
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>dp-bucket</Bucket><Key>Big.pkg</Key><UploadId>U1</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		f.once.Do(func() { close(f.partSeen) })
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		f.mu.Lock()
		f.aborts++
		hold := f.holdAbort
		f.mu.Unlock()
		if hold {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(204)
	default:
		w.WriteHeader(400)
	}
}

// An interrupt while the S3 distribution point's parts stall: parts get
// 2 s (it was 30), the abort 5 s of its own, and the message says
// whether the upload was aborted or stays open in S3; meanwhile the
// run's tracker names the open upload (#22).
func TestS3DistributionPointInterruptWhilePartsStall(t *testing.T) {
	for _, holdAbort := range []bool{false, true} {
		isolateAWS(t)
		f := &fakeS3{holdAbort: holdAbort, partSeen: make(chan struct{})}
		srv := httptest.NewTLSServer(f)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIASTALLTEST")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "stall-secret-key-0123456789")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
		base, tracker := inflight.With(context.Background())
		ctx, cancel := context.WithCancel(base)
		var during string
		var cancelled time.Time
		go func() {
			<-f.partSeen
			time.Sleep(200 * time.Millisecond)
			during = tracker.Describe()
			cancelled = time.Now()
			cancel()
		}()
		err := s3Put(ctx, distpoint.S3Target{Bucket: "dp-bucket", Insecure: true, MaxTries: 1, PartSize: 5 << 20, Concurrency: 1},
			pkgFile(t, "Big.pkg", 12<<20, 3))
		took := time.Since(cancelled)
		srv.Close()
		cancel()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if !strings.Contains(during, "a multipart upload of Big.pkg open in s3://dp-bucket") {
			t.Fatalf("hold abort %v: while parts stalled the tracker said %q", holdAbort, during)
		}
		if err == nil || !strings.Contains(msg, "interrupted") || took > 12*time.Second {
			t.Fatalf("hold abort %v: after %s: %v", holdAbort, took, err)
		}
		open := strings.Contains(msg, "the multipart upload could not be aborted (S3 did not answer the abort within 5s), so it stays open in s3://dp-bucket")
		if open != holdAbort || f.aborts == 0 {
			t.Fatalf("hold abort %v: %d aborts, %q", holdAbort, f.aborts, msg)
		}
		if got := tracker.Describe(); got != "" {
			t.Fatalf("hold abort %v: after the upload the tracker still says %q", holdAbort, got)
		}
		t.Logf("hold abort %v: acted %s after the interrupt: %s", holdAbort, took.Round(100*time.Millisecond), msg)
	}
}
