// An external test package: jamfsim imports jcds2, which is to import
// distpoint, and only an external test may close that circle.
package distpoint_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
	"github.com/jcds2-uploader/jcds2-uploader/jamfsim"
)

// countingProxy forwards to MinIO and counts the requests that write,
// so "nothing was uploaded" is a measured zero, not a guess.
type countingProxy struct {
	*httptest.Server
	writes atomic.Int64
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &countingProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p.writes.Add(1)
		}
		rp.ServeHTTP(w, r) // keeps r.Host, which the request was signed for
	}))
	t.Cleanup(p.Close)
	return p
}

// isolateAWS points the SDK's whole configuration chain at nothing but
// what the test sets: no ~/.aws, no region, no instance metadata.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

type recLog struct {
	mu      sync.Mutex
	lines   []string
	secrets []string
	cancel  func(done, total int64)
}

func (l *recLog) Logf(_ int, f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
}
func (l *recLog) Secret(v string) { l.mu.Lock(); l.secrets = append(l.secrets, v); l.mu.Unlock() }
func (l *recLog) Progress(done, total int64) {
	if l.cancel != nil {
		l.cancel(done, total)
	}
}

func pkgFile(t *testing.T, name string, size int, seed uint64) distpoint.Package {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(t.TempDir(), name)
	os.WriteFile(p, b, 0o644)
	return distpoint.Package{Path: p, Name: name}
}

func objectBytes(t *testing.T, c *s3.Client, bucket, key string) []byte {
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b
}

func TestS3AgainstMinIO(t *testing.T) {
	mp, err := jamfsim.StartMinIO()
	if err != nil {
		t.Fatalf("MinIO: %v", err)
	}
	defer mp.Stop()
	be := mp.Backend()
	admin := be.Client()
	ctx := context.Background()

	t.Run("environment credentials, region from the bucket, unchanged re-run sends nothing", func(t *testing.T) {
		isolateAWS(t)
		be.EnsureBucket(ctx, "dp-env")
		proxy := newCountingProxy(t, mp.URL)
		t.Setenv("AWS_ACCESS_KEY_ID", mp.RootUser)
		t.Setenv("AWS_SECRET_ACCESS_KEY", mp.RootPassword)
		t.Setenv("AWS_ENDPOINT_URL_S3", proxy.URL)
		target := distpoint.S3Target{Bucket: "dp-env", PartSize: 5 << 20}
		pkg := pkgFile(t, "Tool.pkg", 11<<20, 1)
		log := &recLog{}

		o := distpoint.UploadS3(ctx, target, pkg, distpoint.Options{Log: log})
		if o.Status != distpoint.Copied || o.Bytes != 11<<20 || o.Target != "s3://dp-env/Tool.pkg" {
			t.Fatalf("upload: %+v", o)
		}
		want, _ := os.ReadFile(pkg.Path)
		if !bytes.Equal(objectBytes(t, admin, "dp-env", "Tool.pkg"), want) {
			t.Fatal("the object's bytes differ from the package")
		}
		if !strings.Contains(strings.Join(log.lines, "\n"), "bucket dp-env is in us-east-1") {
			t.Fatalf("region not discovered from the bucket: %v", log.lines)
		}
		found := false
		for _, s := range log.secrets {
			found = found || s == mp.RootPassword
		}
		if !found {
			t.Fatal("the AWS secret key was not registered as a secret")
		}

		before := proxy.writes.Load()
		if before == 0 {
			t.Fatal("the proxy saw no write requests for the first upload: it does not count")
		}
		o = distpoint.UploadS3(ctx, target, pkg, distpoint.Options{Log: log, Replace: true})
		if o.Status != distpoint.Unchanged || proxy.writes.Load() != before {
			t.Fatalf("re-run: %+v, %d write requests", o, proxy.writes.Load()-before)
		}

		// Same size, other bytes: the recorded SHA-256 tells them apart.
		v2 := pkgFile(t, "Tool.pkg", 11<<20, 2)
		if o = distpoint.UploadS3(ctx, target, v2, distpoint.Options{}); o.Status != distpoint.SkippedDifferent || proxy.writes.Load() != before {
			t.Fatalf("different bytes without replace: %+v", o)
		}
		if o = distpoint.UploadS3(ctx, target, v2, distpoint.Options{Replace: true}); o.Status != distpoint.Copied {
			t.Fatalf("different bytes with replace: %+v", o)
		}
		want, _ = os.ReadFile(v2.Path)
		if !bytes.Equal(objectBytes(t, admin, "dp-env", "Tool.pkg"), want) {
			t.Fatal("the replacement's bytes are not in the bucket")
		}
	})

	t.Run("shared config profile with endpoint_url", func(t *testing.T) {
		isolateAWS(t)
		be.EnsureBucket(ctx, "dp-profile")
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config"), []byte("[profile dp]\nregion = us-east-1\nendpoint_url = "+mp.URL+"\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "credentials"), []byte(fmt.Sprintf("[dp]\naws_access_key_id = %s\naws_secret_access_key = %s\n", mp.RootUser, mp.RootPassword)), 0o600)
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
		t.Setenv("AWS_PROFILE", "dp")
		pkg := pkgFile(t, "Profile Tool.pkg", 300_000, 3)
		if o := distpoint.UploadS3(ctx, distpoint.S3Target{Bucket: "dp-profile"}, pkg, distpoint.Options{}); o.Status != distpoint.Copied {
			t.Fatalf("upload with a profile: %+v", o)
		}
		want, _ := os.ReadFile(pkg.Path)
		if !bytes.Equal(objectBytes(t, admin, "dp-profile", "Profile Tool.pkg"), want) {
			t.Fatal("the object's bytes differ from the package")
		}
	})

	t.Run("wrong secret key", func(t *testing.T) {
		isolateAWS(t)
		be.EnsureBucket(ctx, "dp-wrong")
		t.Setenv("AWS_ACCESS_KEY_ID", mp.RootUser)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-key-123")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL", mp.URL)
		o := distpoint.UploadS3(ctx, distpoint.S3Target{Bucket: "dp-wrong", MaxTries: 1}, pkgFile(t, "W.pkg", 1000, 4), distpoint.Options{})
		if o.Status != distpoint.Failed || !strings.Contains(o.Err.Error(), "check the AWS credentials") || strings.Contains(o.Err.Error(), "wrong-secret-key-123") {
			t.Fatalf("wrong secret: %+v", o)
		}
		if _, err := admin.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dp-wrong"), Key: aws.String("W.pkg")}); err == nil {
			t.Fatal("an object was written with a wrong secret key")
		}
	})

	t.Run("cancelled mid-upload leaves no object and no parts", func(t *testing.T) {
		isolateAWS(t)
		be.EnsureBucket(ctx, "dp-cancel")
		t.Setenv("AWS_ACCESS_KEY_ID", mp.RootUser)
		t.Setenv("AWS_SECRET_ACCESS_KEY", mp.RootPassword)
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", mp.URL)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		log := &recLog{cancel: func(done, total int64) {
			if done >= total/2 {
				cancel()
			}
		}}
		o := distpoint.UploadS3(cctx, distpoint.S3Target{Bucket: "dp-cancel", PartSize: 5 << 20, Concurrency: 1}, pkgFile(t, "X.pkg", 16<<20, 5), distpoint.Options{Log: log})
		if o.Status != distpoint.Failed || !errors.Is(o.Err, context.Canceled) {
			t.Fatalf("cancelled: %+v", o)
		}
		if _, err := admin.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dp-cancel"), Key: aws.String("X.pkg")}); err == nil {
			t.Fatal("an object exists after a cancelled upload")
		}
		ups, err := admin.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("dp-cancel")})
		if err != nil || len(ups.Uploads) != 0 {
			t.Fatalf("unfinished multipart uploads: %v %v", ups, err)
		}
	})

	t.Run("self-signed https endpoint: refused, accepted with insecure", func(t *testing.T) {
		isolateAWS(t)
		be.EnsureBucket(ctx, "dp-tls")
		u, _ := url.Parse(mp.URL)
		tlsProxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
		defer tlsProxy.Close()
		t.Setenv("AWS_ACCESS_KEY_ID", mp.RootUser)
		t.Setenv("AWS_SECRET_ACCESS_KEY", mp.RootPassword)
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", tlsProxy.URL)
		pkg := pkgFile(t, "T.pkg", 1000, 7)
		o := distpoint.UploadS3(ctx, distpoint.S3Target{Bucket: "dp-tls", MaxTries: 1}, pkg, distpoint.Options{})
		if o.Status != distpoint.Failed || !strings.Contains(o.Err.Error(), "certificate") {
			t.Fatalf("self-signed without insecure: %+v", o)
		}
		if o = distpoint.UploadS3(ctx, distpoint.S3Target{Bucket: "dp-tls", Insecure: true}, pkg, distpoint.Options{}); o.Status != distpoint.Copied {
			t.Fatalf("self-signed with insecure: %+v", o)
		}
	})

	t.Run("plain http to a non-loopback endpoint is refused before any request", func(t *testing.T) {
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", "http://s3.example.com:9000")
		o := distpoint.UploadS3(ctx, distpoint.S3Target{Bucket: "dp-http"}, pkgFile(t, "Y.pkg", 10, 6), distpoint.Options{})
		if o.Status != distpoint.Failed || !strings.Contains(o.Err.Error(), "plain http to a host that is not loopback") {
			t.Fatalf("http endpoint: %+v", o)
		}
	})
}
