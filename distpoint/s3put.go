package distpoint

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// abortGrace is how long in-flight requests may finish after an
// interrupt before they are cut off.
const abortGrace = 30 * time.Second

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
			return s3Error("uploading "+key, fmt.Errorf("%w (%v)", context.Cause(ctx), err), t.Bucket)
		}
		return s3Error("uploading "+key, err, t.Bucket)
	}
	return nil
}
