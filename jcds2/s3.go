package jcds2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// objectUpload is one file to put into S3.
type objectUpload struct {
	Bucket, Key string
	// Body is read once, in order; or, when it is an io.ReaderAt and
	// io.Seeker (a file), each part is read at its offset, unbuffered.
	Body        io.Reader
	Size        int64
	PartSize    int64
	Concurrency int
	// Before, if set, is called before the upload is completed (or its
	// single PutObject sent): an error aborts the upload instead.
	Before func(context.Context) error
}

// objectUploader is the one small interface the S3 transfer library sits
// behind (feature/s3/manager today; transfermanager is a one-file swap).
// Upload must leave no unfinished multipart upload behind when it fails.
type objectUploader interface {
	Upload(ctx context.Context, client *s3.Client, in objectUpload) error
}

// s3Endpoint returns the S3 endpoint override, if any: the input, then
// the SDK's standard AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. Real
// Jamf never sends one; without it the SDK talks to AWS by region.
func s3Endpoint(input string) string {
	for _, v := range []string{input, os.Getenv("AWS_ENDPOINT_URL_S3"), os.Getenv("AWS_ENDPOINT_URL")} {
		if v != "" {
			return v
		}
	}
	return ""
}

// jcdsCredentials hands the SDK the credentials from POST
// /api/v1/jcds/files first and renews them through
// /api/v1/jcds/renew-credentials when the cache says they are about to
// expire, so a long upload keeps going.
type jcdsCredentials struct {
	renew func(context.Context) (*jamf.JCDSCredentials, error)
	log   Logger
	mu    sync.Mutex
	first *jamf.JCDSCredentials
	path  string // the upload's prefix, kept for the whole upload
}

func (p *jcdsCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	p.mu.Lock()
	cr := p.first
	p.first = nil
	p.mu.Unlock()
	if cr == nil {
		var err error
		if cr, err = p.renew(ctx); err != nil {
			return aws.Credentials{}, err
		}
		if cr.Path != "" && cr.Path != p.path {
			// JamfSync takes the new key, secret, token and expiry and
			// keeps uploading to the original key; what real Jamf puts
			// in path here is not documented (reference, section 13).
			p.log.Logf(2, "Renewed JCDS credentials name the prefix %s; still uploading to %s", cr.Path, p.path)
		}
		p.log.Logf(2, "Renewed the JCDS upload credentials (valid until %s)", time.Unix(cr.Expiration, 0).UTC().Format(time.RFC3339))
	}
	creds := aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken, Source: "JamfProJCDS"}
	if cr.Expiration > 0 {
		creds.CanExpire = true
		creds.Expires = time.Unix(cr.Expiration, 0)
	}
	return creds, nil
}

// s3Options are what an S3 client for one upload needs.
type s3Options struct {
	creds    *jamf.JCDSCredentials
	renew    func(context.Context) (*jamf.JCDSCredentials, error)
	endpoint string
	maxTries int
	insecure bool
	timeout  time.Duration
	log      Logger
	// acked is told the size of each part S3 acknowledged: the progress
	// users see is bytes stored, not bytes read into part buffers.
	acked func(n int64)
	// streams is how many connections the upload will use at once: the
	// first dial opens the others beside it (warmDialer).
	streams int
}

// newS3Client builds an S3 client from the JCDS credentials, without
// reading any ~/.aws configuration.
func newS3Client(o s3Options) *s3.Client {
	cr := o.creds
	life := time.Until(time.Unix(cr.Expiration, 0))
	window := min(5*time.Minute, max(life/3, time.Second))
	provider := aws.NewCredentialsCache(&jcdsCredentials{renew: o.renew, log: o.log, first: cr, path: cr.Path}, func(co *aws.CredentialsCacheOptions) {
		co.ExpiryWindow = window
	})
	// JCDS may end credentials before their stated expiration (or a clock
	// may be off): an ExpiredToken answer drops the cached credentials and
	// the part is retried with renewed ones.
	renewOnExpiry := middleware.DeserializeMiddlewareFunc("jcds2RenewOnExpiredToken", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		var ae smithy.APIError
		if errors.As(err, &ae) && expiredCode(ae.ErrorCode()) {
			o.log.Logf(1, "S3 says the upload credentials expired; renewing them")
			provider.Invalidate()
		}
		return out, md, err
	})
	// A part counts once S3 answered it: the bytes the manager read ahead
	// into part buffers are not sent yet.
	acked := middleware.DeserializeMiddlewareFunc("jcds2AckedProgress", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		if req, ok := in.Request.(*smithyhttp.Request); ok && err == nil && o.acked != nil && awsmiddleware.GetOperationName(ctx) == "UploadPart" {
			o.acked(req.ContentLength)
		}
		return out, md, err
	})
	tr := newS3Transport(o.streams)
	tr.ResponseHeaderTimeout = max(o.timeout, time.Second)
	if o.insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only when Request.Insecure asks
	}
	region := cr.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := s3.Options{
		Region:      region,
		Credentials: provider,
		// No "Expect: 100-continue": each part would wait a round trip
		// for the go-ahead before its first byte (on a 100 ms path, a
		// third of an 8 MiB part's time at 40 MiB/s). A part refused
		// (expired credentials) then costs its bytes once more.
		ContinueHeaderThresholdBytes: -1,
		// Signed requests never follow a redirect to wherever it points.
		HTTPClient: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Retryer: retry.AddWithErrorCodes(retry.NewStandard(func(ro *retry.StandardOptions) {
			ro.MaxAttempts = max(o.maxTries, 1)
			ro.MaxBackoff = 20 * time.Second
		}), "ExpiredToken", "ExpiredTokenException"),
		APIOptions: []func(*middleware.Stack) error{func(st *middleware.Stack) error {
			if err := st.Deserialize.Add(acked, middleware.After); err != nil {
				return err
			}
			return st.Deserialize.Add(renewOnExpiry, middleware.Before)
		}},
	}
	applyEndpoint(&opts, o.endpoint)
	return s3.New(opts)
}

// applyEndpoint points the client at an override with path-style
// addressing. Over plain http (the simulator, MinIO on loopback) the SDK
// would SHA-256 every byte to sign the payload, CPU taken from the
// upload; the per-part CRC32 checksum already guards the bytes, as it
// does over https where the SDK signs UNSIGNED-PAYLOAD anyway.
func applyEndpoint(opts *s3.Options, endpoint string) {
	if endpoint == "" {
		return
	}
	opts.BaseEndpoint = aws.String(endpoint)
	opts.UsePathStyle = true
	opts.APIOptions = append(opts.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware, func(st *middleware.Stack) error {
		return st.Build.Add(unsignedPayload, middleware.After)
	})
}

// unsignedPayload says UNSIGNED-PAYLOAD before the checksum middleware
// (Finalize) runs: finding no payload hash yet, that middleware would
// SHA-256 every part over http along with its CRC32, and the signature
// would then use that hash (the swap above only fills an empty one).
var unsignedPayload = middleware.BuildMiddlewareFunc("jcds2UnsignedPayload", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
	return next.HandleBuild(v4.SetPayloadHash(ctx, "UNSIGNED-PAYLOAD"), in)
})

func expiredCode(code string) bool {
	return code == "ExpiredToken" || code == "ExpiredTokenException"
}

// The part plan. Parts are read from the file at their offsets
// (partSource), so neither part size nor parts in flight costs memory:
// the plan is chosen for the link alone. Over a long round trip one
// connection carries at most its window ÷ RTT (4 MiB, macOS's default
// send-buffer ceiling, over 200 ms: 20 MiB/s), and each part leaves its
// connection idle for about one round trip while S3 answers, so a
// connection spends part ÷ (part + window) of its time sending. The
// bench (docs/performance.md) measured these over modelled links:
const (
	// defaultStreams parts in flight fill 1 Gbit/s at 200 ms RTT with
	// 4 MiB windows (6 streams at least, 8 with the answers' idle time);
	// on short round trips or slow links the extra streams only wait
	// their turn on the shared link.
	defaultStreams = 8
	// roundsPerStream: each stream sends about this many parts, so the
	// parts end together instead of one stream finishing alone.
	roundsPerStream = 4
	// Parts between these: 8 MiB keeps the answers' idle time to a third
	// of a window-bound stream's time at worst (a small file wants more
	// streams more than bigger parts); past 16 MiB the bench saw no gain,
	// and 32 MiB bounds what one failed part sends again and how far the
	// progress (acknowledged parts) lags the bytes sent: 8 × 32 MiB in
	// flight are 21 s at 100 Mbit/s.
	minPartSize = 8 << 20
	maxPartSize = 32 << 20
	// S3 allows 10,000 parts; keep room to spare.
	maxParts = 9000
)

// partPlan picks part size and parts in flight for a file size; a part
// size or concurrency asked for (non-zero) is kept, except that parts
// grow to stay under 9,000. Parts in flight are never more than parts.
// The uploader cuts a file's first and last parts smaller, ramping up to
// and down from this size (partSizes, multipart.go).
func partPlan(size, partSize int64, concurrency int) (int64, int) {
	if concurrency <= 0 {
		concurrency = defaultStreams
	}
	if partSize <= 0 {
		// At most roundsPerStream parts per stream, in whole MiB.
		n := int64(concurrency * roundsPerStream)
		partSize = (size + n - 1) / n
		partSize = min(max(roundUpMiB(partSize), minPartSize), maxPartSize)
	}
	if least := roundUpMiB(size / maxParts); least > partSize {
		partSize = least
	}
	if parts := (size + partSize - 1) / partSize; parts < int64(concurrency) {
		concurrency = int(max(parts, 1))
	}
	return partSize, concurrency
}

// PartPlan is partPlan for the bench: the part size and parts in flight
// an upload of size bytes uses, given what was asked (0: the rule's).
func PartPlan(size, partSize int64, concurrency int) (int64, int) {
	return partPlan(size, partSize, concurrency)
}

func roundUpMiB(n int64) int64 { return (n + 1<<20 - 1) &^ (1<<20 - 1) }

// BareUpload puts a file into S3 with the engine's uploader and part
// plan but nothing else: no hashing, no Jamf Pro calls, no progress. It
// is the benchmark's baseline for "the upload alone".
func BareUpload(ctx context.Context, endpoint string, cr jamf.JCDSCredentials, key, path string, partSize int64, concurrency int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	ps, conc := partPlan(st.Size(), partSize, concurrency)
	opts := s3.Options{
		Region:                       cr.Region,
		Credentials:                  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)),
		ContinueHeaderThresholdBytes: -1,
		HTTPClient:                   &http.Client{Transport: newS3Transport(conc)},
	}
	applyEndpoint(&opts, endpoint)
	client := s3.New(opts)
	return defaultObjectUploader.Upload(ctx, client, objectUpload{Bucket: cr.BucketName, Key: key, Body: f, Size: st.Size(), PartSize: ps, Concurrency: conc})
}

// newS3Transport is the HTTP transport of one upload's S3 client: its
// dialer opens streams connections at once (warmDialer).
func newS3Transport(streams int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.DialContext = (&warmDialer{extra: streams - 1}).DialContext
	return tr
}

// warmDialer opens, when the upload's first connection is dialed (for
// CreateMultipartUpload), the connections its other parts will need,
// beside it: their handshakes then overlap CreateMultipartUpload's round
// trip instead of following it, and the first parts of every stream
// leave one round trip sooner (0.8 s of a 1 GiB upload over the bench's
// slowed 200 ms link, docs/performance.md). Only TCP is opened early;
// over https the transport still shakes TLS hands on each when it takes
// it. Connections nobody took are closed after warmIdle.
type warmDialer struct {
	extra   int // connections to open beside the first
	mu      sync.Mutex
	started bool
	ready   map[string][]net.Conn // by address
}

// warmIdle is how long an early connection waits to be taken (the
// transport's own idle timeout).
const warmIdle = 90 * time.Second

var baseDialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

func (w *warmDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	w.mu.Lock()
	if cs := w.ready[addr]; len(cs) > 0 {
		c := cs[len(cs)-1]
		w.ready[addr] = cs[:len(cs)-1]
		w.mu.Unlock()
		return c, nil
	}
	first := !w.started
	w.started = true
	w.mu.Unlock()
	if first {
		for range w.extra {
			go w.open(network, addr)
		}
	}
	return baseDialer.DialContext(ctx, network, addr)
}

// open dials one connection ahead and keeps it for the next dial to addr.
func (w *warmDialer) open(network, addr string) {
	c, err := baseDialer.Dial(network, addr)
	if err != nil {
		return // the transport dials its own when it needs one
	}
	w.mu.Lock()
	if w.ready == nil {
		w.ready = map[string][]net.Conn{}
	}
	w.ready[addr] = append(w.ready[addr], c)
	w.mu.Unlock()
	time.AfterFunc(warmIdle, func() {
		w.mu.Lock()
		cs := w.ready[addr]
		for i, x := range cs {
			if x == c {
				w.ready[addr] = append(cs[:i:i], cs[i+1:]...)
				w.mu.Unlock()
				c.Close()
				return
			}
		}
		w.mu.Unlock()
	})
}
