package distpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// S3Dest is a self-hosted S3 distribution point (aws_cdp_mode) as a
// dest.Destination: the package lives at s3://Bucket/<name>.
//
// The stamp is the object's ETag and size. No hash is taken from the
// object's metadata: metadata is sent before the bytes, so it says what
// the uploader meant to send, not what arrived; the engine hashes the
// bytes it hands to Put, or reads the object back.
type S3Dest struct {
	Target S3Target
	Log    Logger
	// StallTimeout: see ShareDest.
	StallTimeout time.Duration

	mu     sync.Mutex
	client *s3.Client
}

var _ dest.Destination = (*S3Dest)(nil)

func (d *S3Dest) String() string { return "s3://" + d.Target.Bucket }

// Cloud: the bucket stands in for Jamf Pro's cloud distribution point.
func (d *S3Dest) Cloud() bool { return true }

func (d *S3Dest) log() Logger {
	if d.Log == nil {
		return nopLogger{}
	}
	return d.Log
}

func (d *S3Dest) connect(ctx context.Context, name string) (*s3.Client, error) {
	if err := checkBucket(d.Target.Bucket); err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client != nil {
		return d.client, nil
	}
	c, err := newS3Client(ctx, d.Target, stall(d.StallTimeout), d.log())
	if err != nil {
		return nil, err
	}
	// HeadObject answers 404 for a missing bucket as for a missing key:
	// ask for the bucket once, so a wrong name or missing right stops
	// the run while it is still looking, before anything is written.
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(d.Target.Bucket)}); err != nil {
		return nil, s3Error("checking the bucket", err, d.Target.Bucket)
	}
	d.client = c
	return c, nil
}

// Observe asks HeadObject.
func (d *S3Dest) Observe(ctx context.Context, name string) (dest.Holding, error) {
	c, err := d.connect(ctx, name)
	if err != nil {
		return dest.Holding{}, err
	}
	return d.head(ctx, c, name)
}

func (d *S3Dest) head(ctx context.Context, c *s3.Client, name string) (dest.Holding, error) {
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(d.Target.Bucket), Key: aws.String(name)})
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey"):
		return dest.Holding{}, nil
	case err != nil:
		return dest.Holding{}, s3Error("looking for "+name, err, d.Target.Bucket)
	}
	etag := strings.Trim(aws.ToString(head.ETag), `"`)
	size := aws.ToInt64(head.ContentLength)
	h := dest.Holding{Present: true, Size: size}
	if etag != "" {
		h.Stamp = fmt.Sprintf("%d|%s", size, etag)
	}
	return h, nil
}

// Open reads the object back.
func (d *S3Dest) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	c, err := d.connect(ctx, name)
	if err != nil {
		return nil, err
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.Target.Bucket), Key: aws.String(name)})
	if err != nil {
		return nil, s3Error("reading "+name+" back", err, d.Target.Bucket)
	}
	return out.Body, nil
}

// Put is a multipart upload of exactly the bytes read from src (one
// sequential read; parts carry a CRC32 each), then HeadObject for the
// stamp and size of what the bucket now holds.
func (d *S3Dest) Put(ctx context.Context, name string, src io.Reader, size int64) (dest.Holding, error) {
	c, err := d.connect(ctx, name)
	if err != nil {
		return dest.Holding{}, err
	}
	cr := &countReader{r: &progressReader{ctx: ctx, r: newExactReader(src, size), total: size, log: d.log()}}
	if err := putObject(ctx, c, d.Target, name, cr, size); err != nil {
		return dest.Holding{}, err
	}
	h, err := d.head(ctx, c, name)
	if err != nil {
		return h, err
	}
	if cr.n != size || h.Size != size {
		return h, fmt.Errorf("s3://%s/%s holds %d bytes after the upload of %d bytes read, %d expected (did the package change?): %w", d.Target.Bucket, name, h.Size, cr.n, size, ErrRetryReplacing)
	}
	return h, nil
}

// Delete removes the object.
func (d *S3Dest) Delete(ctx context.Context, name string) error {
	c, err := d.connect(ctx, name)
	if err != nil {
		return err
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.Target.Bucket), Key: aws.String(name)}); err != nil {
		return s3Error("deleting "+name, err, d.Target.Bucket)
	}
	return nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
