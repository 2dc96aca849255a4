package jamfsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Backend is the S3 server behind the simulated JCDS.
type Backend interface {
	// Endpoint is the server's own URL.
	Endpoint() string
	// Client is an S3 client with full rights, for the simulator itself.
	Client() *s3.Client
	EnsureBucket(ctx context.Context, bucket string) error
	// Mint returns credentials that may write only under bucket/prefix.
	Mint(ctx context.Context, bucket, prefix string) (akid, secret, token string, err error)
	// Enforces reports whether the server itself checks signatures,
	// session tokens and scope (MinIO does; the embedded S3 does not, so
	// the simulator's proxy checks token and scope for it).
	Enforces() bool
	Close() error
}

func adminClient(endpoint, akid, secret, region string) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	})
}

func ensureBucket(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		if strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") || strings.Contains(err.Error(), "BucketAlreadyExists") {
			return nil
		}
		return err
	}
	return nil
}

// embeddedS3 is gofakes3 in memory on a loopback listener: the
// zero-setup storage for `jcds2-uploader sim` and the demo.
type embeddedS3 struct {
	url    string
	srv    *http.Server
	client *s3.Client
}

const embeddedRootKey, embeddedRootSecret = "sim-root", "sim-root-secret"

// NewEmbeddedS3 starts an in-process S3 server.
func NewEmbeddedS3() (Backend, error) {
	faker := gofakes3.New(s3mem.New(), gofakes3.WithIntegrityCheck(true), gofakes3.WithTimeSkewLimit(0), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("embedded S3: %w", err)
	}
	b := &embeddedS3{url: "http://" + ln.Addr().String(), srv: &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 30 * time.Second}}
	go b.srv.Serve(ln)
	b.client = adminClient(b.url, embeddedRootKey, embeddedRootSecret, "us-east-1")
	return b, nil
}

func (b *embeddedS3) Endpoint() string   { return b.url }
func (b *embeddedS3) Client() *s3.Client { return b.client }
func (b *embeddedS3) Enforces() bool     { return false }
func (b *embeddedS3) Close() error       { return b.srv.Close() }
func (b *embeddedS3) EnsureBucket(ctx context.Context, bucket string) error {
	return ensureBucket(ctx, b.client, bucket)
}
func (b *embeddedS3) Mint(ctx context.Context, bucket, prefix string) (string, string, string, error) {
	return "ASIASIM" + strings.ToUpper(randomHex(6)), randomHex(20), "sim-session-" + randomHex(32), nil
}

// MinIO is a MinIO server used as the JCDS bucket, with credentials
// minted through its STS AssumeRole and scoped by a session policy.
type MinIO struct {
	URL, RootUser, RootPassword, Region string
	client                              *s3.Client
}

// NewMinIOBackend uses a running MinIO server.
func NewMinIOBackend(url, rootUser, rootPassword string) *MinIO {
	m := &MinIO{URL: url, RootUser: rootUser, RootPassword: rootPassword, Region: "us-east-1"}
	m.client = adminClient(url, rootUser, rootPassword, m.Region)
	return m
}

func (m *MinIO) Endpoint() string   { return m.URL }
func (m *MinIO) Client() *s3.Client { return m.client }
func (m *MinIO) Enforces() bool     { return true }
func (m *MinIO) Close() error       { return nil }
func (m *MinIO) EnsureBucket(ctx context.Context, bucket string) error {
	return ensureBucket(ctx, m.client, bucket)
}

// Mint calls STS AssumeRole with a session policy that allows only the
// upload calls under bucket/prefix, as JCDS's credentials do.
func (m *MinIO) Mint(ctx context.Context, bucket, prefix string) (string, string, string, error) {
	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
			"Resource": []string{"arn:aws:s3:::" + bucket + "/" + prefix + "*"},
		}},
	})
	c := sts.New(sts.Options{
		Region:       m.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(m.RootUser, m.RootPassword, ""),
		BaseEndpoint: aws.String(m.URL),
	})
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:minio:iam:::role/jcds-sim"),
		RoleSessionName: aws.String("jcds-upload"),
		DurationSeconds: aws.Int32(900),
		Policy:          aws.String(string(policy)),
	})
	if err != nil {
		return "", "", "", fmt.Errorf("MinIO STS AssumeRole: %w", err)
	}
	cr := out.Credentials
	return aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken), nil
}

// minted is one set of JCDS credentials handed out.
type minted struct {
	token   string
	expires time.Time
	bucket  string
	prefix  string
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/`)

func accessKeyOf(r *http.Request) string {
	if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		ak, _, _ := strings.Cut(c, "/")
		return ak
	}
	return ""
}

// s3Proxy forwards path-style S3 requests to the backend, checking what
// JCDS's credentials would allow: expiry (reported lifetime), and, for a
// backend that does not check them itself, session token and scope.
func (s *Server) s3Proxy() http.Handler {
	target, _ := url.Parse(s.s3.Endpoint())
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the signature covers the Host header
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeS3Error(w, http.StatusBadGateway, "InternalError", "S3 backend: "+err.Error())
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ak := accessKeyOf(r)
		s.mu.Lock()
		m := s.creds[ak]
		s.mu.Unlock()
		switch {
		case m != nil && time.Now().After(m.expires):
			writeS3Error(w, http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
			return
		case m != nil && !s.s3.Enforces() && r.Header.Get("X-Amz-Security-Token") != m.token:
			writeS3Error(w, http.StatusForbidden, "InvalidToken", "The provided token is malformed or otherwise invalid.")
			return
		case m != nil && !s.s3.Enforces() && !strings.HasPrefix(strings.TrimPrefix(r.URL.Path, "/"), m.bucket+"/"+m.prefix):
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied.")
			return
		case m == nil && !s.s3.Enforces() && ak != embeddedRootKey:
			writeS3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
			return
		}
		if s.applyFault(w, r, s3Operation(r)) {
			return
		}
		rp.ServeHTTP(w, r)
	})
}

// s3Operation names an S3 request for logs and faults.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	_, uploads := q["uploads"]
	hasKey := strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1
	switch r.Method {
	case http.MethodPut:
		switch {
		case q.Get("partNumber") != "":
			return "UploadPart"
		case !hasKey:
			return "CreateBucket"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case uploads:
			return "CreateMultipartUpload"
		case q.Get("uploadId") != "":
			return "CompleteMultipartUpload"
		case r.URL.Path == "/":
			return "STS"
		}
		return "PostObject"
	case http.MethodDelete:
		if q.Get("uploadId") != "" {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodGet:
		switch {
		case uploads:
			return "ListMultipartUploads"
		case q.Get("uploadId") != "":
			return "ListParts"
		case !hasKey:
			return "ListObjects"
		}
		return "GetObject"
	}
	return r.Method
}

// ExpireS3Credentials makes every JCDS credential handed out so far
// expire now (the proxy then answers ExpiredToken).
func (s *Server) ExpireS3Credentials() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.creds {
		m.expires = time.Now().Add(-time.Second)
	}
}

// UnfinishedUploads lists multipart uploads still open in the bucket.
func (s *Server) UnfinishedUploads(ctx context.Context) ([]string, error) {
	out, err := s.s3.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.cfg.Bucket)})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys, nil
}
