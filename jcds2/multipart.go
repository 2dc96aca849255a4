package jcds2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// partsUploader uploads a body that can be read at offsets (a file:
// partSource) in parts whose sizes it chooses itself, which
// feature/s3/manager cannot (its parts are all one size). A body that
// can only be read in order goes to the manager.
//
// Why sizes of its own: every part leaves its connection idle for one
// round trip while S3 answers. With parts of one size sharing a link
// fairly, the connections start together, finish together, and so idle
// together, once a part: the link carries nothing for a round trip per
// wave, and the last wave drains on its own windows. The bench traced it
// (docs/performance.md): a tenth of a 1 GiB upload over the slowed 200 ms
// link was time with fewer parts in flight than fill the link. So the
// first parts ramp up (the connections finish them one after another,
// and stay staggered), and the last ones ramp down (the connection free
// first takes the biggest, so all end together); see partSizes.
type partsUploader struct{}

func (partsUploader) Upload(ctx context.Context, client *s3.Client, in objectUpload) error {
	ra, ok := in.Body.(io.ReaderAt)
	if !ok {
		return managerUploader{}.Upload(ctx, client, in)
	}
	name := path.Base(in.Key)
	sizes := partSizes(in.Size, in.PartSize, in.Concurrency)
	if len(sizes) <= 1 {
		if in.Before != nil {
			if err := in.Before(ctx); err != nil {
				return fmt.Errorf("uploading %s to S3: %w", name, err)
			}
		}
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), Body: io.NewSectionReader(ra, 0, in.Size),
			ContentLength: aws.Int64(in.Size), ContentType: aws.String("application/octet-stream"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("uploading %s to S3: %w", name, s3Cause(err))
		}
		return nil
	}
	cr, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), ContentType: aws.String("application/octet-stream"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("uploading %s to S3: %w", name, s3Cause(err))
	}
	id := aws.ToString(cr.UploadId)
	parts, err := sendParts(ctx, client, in, ra, id, sizes)
	if err == nil {
		_, err = client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), UploadId: aws.String(id),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
	}
	if err == nil {
		return nil
	}
	cause := fmt.Errorf("uploading %s to S3: %w", name, s3Cause(err))
	if aerr := abortUpload(ctx, client, in, id); aerr != nil {
		return &AbortError{Err: aerr, Cause: cause}
	}
	return cause
}

// sendParts uploads the parts, in.Concurrency at a time, each read from
// ra at its offset; then calls in.Before. On the first failure it stops
// handing out parts; those in flight run on (as the manager's do: an
// interrupted run gives them the grace upload_s3.go allows). It returns
// the completed parts in order.
func sendParts(ctx context.Context, client *s3.Client, in objectUpload, ra io.ReaderAt, id string, sizes []int64) ([]types.CompletedPart, error) {
	type part struct {
		num      int32
		off, len int64
	}
	todo := make(chan part, len(sizes))
	var off int64
	for i, n := range sizes {
		todo <- part{int32(i + 1), off, n}
		off += n
	}
	close(todo)
	var (
		mu    sync.Mutex
		first error
		done  []types.CompletedPart
		wg    sync.WaitGroup
	)
	failed := func(err error) bool {
		mu.Lock()
		defer mu.Unlock()
		if first == nil && err != nil {
			first = err
		}
		return first != nil
	}
	for range min(max(in.Concurrency, 1), len(sizes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range todo {
				if failed(ctx.Err()) {
					return
				}
				out, err := client.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), UploadId: aws.String(id), PartNumber: aws.Int32(p.num),
					Body: io.NewSectionReader(ra, p.off, p.len), ContentLength: aws.Int64(p.len), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
				})
				if failed(err) {
					return
				}
				mu.Lock()
				done = append(done, types.CompletedPart{PartNumber: aws.Int32(p.num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(done) != len(sizes) {
		return nil, fmt.Errorf("%d of %d parts uploaded", len(done), len(sizes)) // cannot happen
	}
	if in.Before != nil {
		if err := in.Before(ctx); err != nil {
			return nil, err
		}
	}
	sort.Slice(done, func(i, j int) bool { return *done[i].PartNumber < *done[j].PartNumber })
	return done, nil
}

// abortUpload aborts the multipart upload on a context of its own, so
// that an interrupted run still leaves no open upload: 30 s at most, and
// at most abortTimeout once ctx has ended (an interrupt), so the run
// still exits within seconds. An upload already gone (NoSuchUpload)
// counts as aborted.
func abortUpload(ctx context.Context, client *s3.Client, in objectUpload, id string) error {
	limit := 30 * time.Second
	if ctx.Err() != nil {
		limit = abortTimeout
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	var cut atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(abortTimeout, func() { cut.Store(true); cancel() })
	})
	defer stop()
	_, err := client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), UploadId: aws.String(id)})
	var ae smithy.APIError
	switch {
	case err == nil, errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload":
		return nil
	case actx.Err() != nil && (cut.Load() || limit == abortTimeout):
		return fmt.Errorf("S3 did not answer the abort within %s", abortTimeout)
	case actx.Err() != nil:
		return fmt.Errorf("S3 did not answer the abort within %s", limit)
	}
	return s3Cause(err)
}

// minPart is S3's smallest part but the last.
const minPart = 5 << 20

// partSizes cuts size bytes into parts of about partSize for streams
// connections: the first streams parts ramp up from partSize ÷ streams
// to partSize, the last streams − 1 ramp down to partSize ÷ streams,
// full parts in between (none but the last under S3's 5 MiB). Started together, the connections finish their
// first parts one after another, so their round trips waiting for S3's
// answers fall at different times and the others keep the link busy;
// at the end, the connection free first takes the biggest of the last
// parts, so all finish together, as they would if each ran at the same
// pace to the end. A file too small for both ramps is cut in parts of
// partSize.
func partSizes(size, partSize int64, streams int) []int64 {
	if size <= partSize || partSize <= 0 {
		return []int64{size}
	}
	c := int64(max(streams, 1))
	ramp := func(k int64) int64 { return max(minPart, roundUpMiB(partSize*k/c)) }
	var up, down []int64
	var sum int64
	for k := int64(1); k <= c; k++ {
		up = append(up, ramp(k))
		sum += ramp(k)
	}
	for k := c - 1; k >= 1; k-- {
		down = append(down, ramp(k))
		sum += ramp(k)
	}
	if c == 1 || sum+partSize > size {
		var out []int64
		for left := size; left > 0; left -= min(left, partSize) {
			out = append(out, min(left, partSize))
		}
		return out
	}
	// The middle: full parts, and what is left over (under partSize)
	// first, as one more part if it is 5 MiB or more, else in the next.
	mid := size - sum
	n, rest := mid/partSize, mid%partSize
	out := up
	switch {
	case rest >= minPart:
		out = append(out, rest)
	case rest > 0:
		out = append(out, partSize+rest)
		n--
	}
	for range n {
		out = append(out, partSize)
	}
	out = append(out, down...)
	if len(out) > 10000 { // S3's limit; only with thousands of streams
		return partSizes(size, partSize, 1)
	}
	return out
}
