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

	"github.com/jcds2-uploader/jcds2-uploader/dest"
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

// pkg is a local file to put.
type pkg struct{ Path, Name string }

// putS3 puts p on d the way the engine does: the file's bytes, its size.
func putS3(ctx context.Context, d *distpoint.S3Dest, p pkg) (dest.Holding, error) {
	f, err := os.Open(p.Path)
	if err != nil {
		return dest.Holding{}, err
	}
	defer f.Close()
	st, _ := f.Stat()
	return d.Put(ctx, p.Name, f, st.Size())
}

func pkgFile(t *testing.T, name string, size int, seed uint64) pkg {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	p := filepath.Join(t.TempDir(), name)
	os.WriteFile(p, b, 0o644)
	return pkg{Path: p, Name: name}
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

	t.Run("environment credentials, region from the bucket; looking and reading back send no write", func(t *testing.T) {
		isolateAWS(t)
		be.EnsureBucket(ctx, "dp-env")
		proxy := newCountingProxy(t, mp.URL)
		t.Setenv("AWS_ACCESS_KEY_ID", mp.RootUser)
		t.Setenv("AWS_SECRET_ACCESS_KEY", mp.RootPassword)
		t.Setenv("AWS_ENDPOINT_URL_S3", proxy.URL)
		d := &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-env", PartSize: 5 << 20}, Log: &recLog{}}
		log := d.Log.(*recLog)
		if d.String() != "s3://dp-env" || !d.Cloud() {
			t.Fatalf("String %q, Cloud %v", d, d.Cloud())
		}
		p := pkgFile(t, "Tool.pkg", 11<<20, 1)
		if h, err := d.Observe(ctx, p.Name); err != nil || h.Present {
			t.Fatalf("before: %+v %v", h, err)
		}
		h, err := putS3(ctx, d, p)
		if err != nil || h.Size != 11<<20 || h.Stamp == "" || h.Hashes.Known() {
			t.Fatalf("upload: %+v %v (no hash is taken from the bucket)", h, err)
		}
		want, _ := os.ReadFile(p.Path)
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

		// Looking and reading back write nothing.
		before := proxy.writes.Load()
		if before == 0 {
			t.Fatal("the proxy saw no write requests for the first upload: it does not count")
		}
		if seen, err := d.Observe(ctx, p.Name); err != nil || seen != h {
			t.Fatalf("observe: %+v, put said %+v (%v)", seen, h, err)
		}
		rc, err := d.Open(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		back, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(back, want) || proxy.writes.Load() != before {
			t.Fatalf("read back %d bytes; %d write requests", len(back), proxy.writes.Load()-before)
		}

		// Other bytes of the same size: a new ETag, so a new stamp.
		v2 := pkgFile(t, "Tool.pkg", 11<<20, 2)
		h2, err := putS3(ctx, d, v2)
		if err != nil || h2.Stamp == h.Stamp {
			t.Fatalf("replacement: %+v (stamp was %q) %v", h2, h.Stamp, err)
		}
		want, _ = os.ReadFile(v2.Path)
		if !bytes.Equal(objectBytes(t, admin, "dp-env", "Tool.pkg"), want) {
			t.Fatal("the replacement's bytes are not in the bucket")
		}
		if err := d.Delete(ctx, p.Name); err != nil {
			t.Fatal(err)
		}
		if h, err := d.Observe(ctx, p.Name); err != nil || h.Present {
			t.Fatalf("after delete: %+v %v", h, err)
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
		p := pkgFile(t, "Profile Tool.pkg", 300_000, 3)
		if _, err := putS3(ctx, &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-profile"}}, p); err != nil {
			t.Fatalf("upload with a profile: %v", err)
		}
		want, _ := os.ReadFile(p.Path)
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
		_, err := putS3(ctx, &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-wrong", MaxTries: 1}}, pkgFile(t, "W.pkg", 1000, 4))
		if err == nil || !strings.Contains(err.Error(), "check the AWS credentials") || strings.Contains(err.Error(), "wrong-secret-key-123") {
			t.Fatalf("wrong secret: %v", err)
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
		_, err := putS3(cctx, &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-cancel", PartSize: 5 << 20, Concurrency: 1}, Log: log}, pkgFile(t, "X.pkg", 16<<20, 5))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled: %v", err)
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
		p := pkgFile(t, "T.pkg", 1000, 7)
		if _, err := putS3(ctx, &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-tls", MaxTries: 1}}, p); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("self-signed without insecure: %v", err)
		}
		if _, err := putS3(ctx, &distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-tls", Insecure: true}}, p); err != nil {
			t.Fatalf("self-signed with insecure: %v", err)
		}
	})

	t.Run("a missing bucket is found while looking", func(t *testing.T) {
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", mp.RootUser)
		t.Setenv("AWS_SECRET_ACCESS_KEY", mp.RootPassword)
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", mp.URL)
		_, err := (&distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-no-such-bucket", MaxTries: 1}}).Observe(ctx, "Z.pkg")
		if err == nil || !strings.Contains(err.Error(), "check S3_BUCKET_NAME") {
			t.Fatalf("missing bucket: %v", err)
		}
	})

	t.Run("plain http to a non-loopback endpoint is refused before any request", func(t *testing.T) {
		isolateAWS(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL_S3", "http://s3.example.com:9000")
		_, err := (&distpoint.S3Dest{Target: distpoint.S3Target{Bucket: "dp-http"}}).Observe(ctx, "Y.pkg")
		if err == nil || !strings.Contains(err.Error(), "plain http to a host that is not loopback") {
			t.Fatalf("http endpoint: %v", err)
		}
	})
}
