package distpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/jcds2-uploader/jcds2-uploader/inflight"
	"github.com/jcds2-uploader/jcds2-uploader/oneline"
)

// abortGrace is how long in-flight requests may finish after an
// interrupt before they are cut off (the JCDS upload's is the same);
// abortTimeout bounds the abort that follows, so an interrupt acts in
// seconds even when S3 stalls.
var (
	abortGrace   = 2 * time.Second
	abortTimeout = 5 * time.Second
)

// putObject is the multipart upload, the same library and settings as
// jcds2's managerUploader (copied, not imported, to keep this package
// free of the engine): parallel parts from one sequential read, a CRC32
// checksum per part, and AbortMultipartUpload on any failure, so an
// interrupted upload leaves no object and no parts behind.
func putObject(ctx context.Context, client *s3.Client, t S3Target, key string, body io.Reader, size int64) error {
	partSize, concurrency := t.PartSize, t.Concurrency
	if partSize == 0 {
		// 8 MiB, or more when needed to stay under S3's 10,000 parts.
		partSize = max(8<<20, (size/9000+1<<20-1)&^(1<<20-1))
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	//lint:ignore SA1019 manager is deprecated upstream; jcds2 uses it too until transfermanager reaches 1.0
	up := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = partSize
		u.Concurrency = concurrency
		u.LeavePartsOnError = false
	})
	if size > partSize {
		defer inflight.Leave(ctx, fmt.Sprintf("a multipart upload of %s open in s3://%s (a lifecycle rule for incomplete uploads removes it)", key, t.Bucket))()
	}
	// The uploader gets a context that outlives an interrupt by
	// abortGrace: body stops at the interrupt, and the uploader can then
	// still abort the multipart upload instead of leaving its parts.
	upCtx, cancelUp := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelUp()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(abortGrace, cancelUp) })
	defer stop()
	//lint:ignore SA1019 see above
	_, err := up.Upload(upCtx, &s3.PutObjectInput{
		Bucket:            aws.String(t.Bucket),
		Key:               aws.String(key),
		Body:              body,
		ContentType:       aws.String("application/octet-stream"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		if ctx.Err() != nil {
			aerr := abortLeftover(ctx, client, t.Bucket, key, err)
			err = s3Error("uploading "+key, fmt.Errorf("%w (%v)", context.Cause(ctx), err), t.Bucket)
			if aerr != nil {
				return fmt.Errorf("%w; the multipart upload could not be aborted (%v), so it stays open in s3://%s until a lifecycle rule for incomplete uploads removes it", err, aerr, t.Bucket)
			}
			return err
		}
		return s3Error("uploading "+key, err, t.Bucket)
	}
	return nil
}

// abortLeftover aborts, on a deadline of its own, a multipart upload the
// uploader could not abort because its context had ended (parts stalled
// past abortGrace). It returns the abort's failure, so that an upload
// S3 still holds open is never reported as gone; NoSuchUpload (already
// aborted) is no failure.
func abortLeftover(ctx context.Context, client *s3.Client, bucket, key string, err error) error {
	var mf manager.MultiUploadFailure
	if !errors.As(err, &mf) || mf.UploadID() == "" {
		return nil
	}
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, aerr := client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(mf.UploadID())})
	var ae smithy.APIError
	switch {
	case aerr == nil, errors.As(aerr, &ae) && ae.ErrorCode() == "NoSuchUpload":
		return nil
	case abortCtx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("S3 did not answer the abort within %s", abortTimeout)
	case errors.As(aerr, &ae):
		return fmt.Errorf("S3 answered %s: %s", oneline.Escape(ae.ErrorCode()), oneline.Escape(ae.ErrorMessage()))
	}
	return aerr
}
