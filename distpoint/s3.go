package distpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jcds2-uploader/jcds2-uploader/oneline"
)

// newS3Client loads the standard AWS configuration and checks that it
// has credentials and a usable endpoint before any request.
func newS3Client(ctx context.Context, t S3Target, stall time.Duration, log Logger) (*s3.Client, error) {
	tries := t.MaxTries
	if tries <= 0 {
		tries = 5
	}
	// A server that takes the request and never answers is given up on
	// (and the request retried) after stall, not never.
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.ResponseHeaderTimeout = stall
		if t.Insecure {
			tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // only when asked (insecure)
		}
	})
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(tries), config.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %v: check AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE", err)
	}
	// Redirects are never followed. The SDK's client follows a 307 or
	// 308, sending the signed Authorization header again to where it
	// points, plain http included. So the requests go through a client of
	// ours, with the transport the configuration built (its CA bundle,
	// AWS_CA_BUNDLE, included), that follows none; the JCDS client
	// (jcds2/s3.go) does the same.
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = &http.Client{Transport: bc.GetTransport(), CheckRedirect: refuseRedirect}
	} else {
		return nil, fmt.Errorf("the AWS configuration replaced the HTTP client: cannot make sure that redirects are refused")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("no AWS credentials for S3_BUCKET_NAME %s (%v): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile in ~/.aws (SSO profiles work after aws sso login), or run with an instance role", t.Bucket, err)
	}
	log.Secret(creds.SecretAccessKey)
	log.Secret(creds.SessionToken)

	var endpoint string
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if o.BaseEndpoint == nil {
			return
		}
		endpoint = *o.BaseEndpoint
		o.UsePathStyle = true
		if strings.HasPrefix(strings.ToLower(endpoint), "http://") {
			// Over plain http the SDK would SHA-256 every part to sign it;
			// the per-part CRC32 checksum guards the bytes instead, as it
			// does over https (the same choice as jcds2.applyEndpoint).
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
	})
	if endpoint != "" {
		if err := checkEndpoint(endpoint, t.Insecure); err != nil {
			return nil, err
		}
		log.Logf(1, "S3 endpoint override %s (path-style addressing)", endpoint)
	}
	if cfg.Region == "" {
		region, err := bucketRegion(ctx, s3c, t.Bucket)
		if err != nil {
			return nil, err
		}
		log.Logf(1, "No AWS region configured; bucket %s is in %s", t.Bucket, region)
		s3c = s3.New(s3c.Options(), func(o *s3.Options) { o.Region = region })
	}
	return s3c, nil
}

// refuseRedirect hands the redirect itself back to the SDK, which
// reports it as S3's answer (a 301 to HeadBucket carries the bucket's
// region); s3Error says it was not followed.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError says which redirect was not followed, or nil.
func redirectError(doing string, err error, bucket string) error {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode/100 != 3 {
		return nil
	}
	to := re.Response.Header.Get("Location")
	if to == "" {
		to = "another address"
	} else if u, perr := url.Parse(to); perr == nil {
		to = u.Redacted()
	}
	return fmt.Errorf("%s in bucket %s: S3 answered %d with a redirect to %s; not followed, since a signed request is never sent again on a redirect (least of all over plain http): check the S3 endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the profile's endpoint_url) and the bucket's region",
		doing, bucket, re.Response.StatusCode, oneline.Escape(to))
}

// bucketRegion asks HeadBucket, whose answer (a 301 included) carries
// the bucket's region in X-Amz-Bucket-Region.
func bucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	out, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}, func(o *s3.Options) {
		o.Region = "us-east-1"
	})
	if err == nil {
		if r := aws.ToString(out.BucketRegion); r != "" {
			return r, nil
		}
		return "us-east-1", nil
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			return r, nil
		}
	}
	return "", s3Error("finding the bucket's region (none is configured; set AWS_REGION to skip this)", err, bucket)
}

func checkEndpoint(endpoint string, insecure bool) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("the S3 endpoint override %q is not an http(s) URL: fix AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or the profile's endpoint_url", endpoint)
	}
	if u.Scheme == "http" && !insecure && !isLoopback(u.Hostname()) {
		return fmt.Errorf("the S3 endpoint override %s uses %w: use https, or turn TLS checks off if you really mean it", endpoint, ErrPlainHTTP)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkBucket refuses, before any request, what S3's naming rules for
// general purpose buckets do not allow, such as an s3:// URL, a path or
// "...": 3 to 63 lower-case letters, digits, dots and hyphens, beginning
// and ending with a letter or digit, no two dots in a row, not an IP
// address, none of the prefixes and suffixes S3 reserves.
func checkBucket(b string) error {
	if b == "" {
		return fmt.Errorf("S3_BUCKET_NAME is empty: aws_cdp_mode needs the bucket name of the S3 distribution point")
	}
	why := bucketRule(b)
	if why == "" {
		return nil
	}
	return fmt.Errorf("S3_BUCKET_NAME %q is not a bucket name (%s): give just the name, e.g. my-jamf-packages", oneline.Escape(b), why)
}

func bucketRule(b string) string {
	const allowed = "abcdefghijklmnopqrstuvwxyz0123456789.-"
	isAlnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	switch {
	case len(b) < 3 || len(b) > 63:
		return "3 to 63 lower-case letters, digits, dots and hyphens"
	case strings.Trim(b, allowed) != "" || strings.IndexFunc(b, func(r rune) bool { return !strings.ContainsRune(allowed, r) }) >= 0:
		return "only lower-case letters, digits, dots and hyphens"
	case !isAlnum(b[0]) || !isAlnum(b[len(b)-1]):
		return "it must begin and end with a letter or digit"
	case strings.Contains(b, ".."):
		return "no two dots in a row"
	case net.ParseIP(b) != nil:
		return "it cannot be an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(b, p) {
			return "S3 reserves the prefix " + p
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(b, sfx) {
			return "S3 reserves the suffix " + sfx
		}
	}
	return ""
}

// s3Error keeps S3's own code and message and says what to do about the
// common ones. It never includes credentials.
func s3Error(doing string, err error, bucket string) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: interrupted: %w", doing, err)
	}
	if rerr := redirectError(doing, err, bucket); rerr != nil {
		return rerr
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s in bucket %s: %w", doing, bucket, err)
	}
	hint := ""
	switch ae.ErrorCode() {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
		hint = ": check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID ...)"
	case "AccessDenied":
		hint = ": the credentials need s3:GetObject, s3:PutObject and s3:ListBucket on the bucket"
	case "Forbidden":
		// A HEAD answer has no body to say which: wrong keys or no right.
		hint = ": check the AWS credentials, and that they allow s3:GetObject, s3:PutObject and s3:ListBucket on the bucket"
	case "NoSuchBucket", "NotFound":
		hint = ": check S3_BUCKET_NAME (and the region or endpoint)"
	}
	return fmt.Errorf("%s in bucket %s: S3 answered %s: %s%s", doing, bucket, oneline.Escape(ae.ErrorCode()), oneline.Escape(ae.ErrorMessage()), hint)
}
