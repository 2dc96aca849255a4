package jcds2

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// defaultObjectUploader is what the engine and BareUpload use: parts of
// sizes of its own for a file (multipart.go), feature/s3/manager for a
// body read in order. Swapping the manager for transfermanager is
// replacing this file.
var defaultObjectUploader objectUploader = partsUploader{}

// managerUploader implements objectUploader with feature/s3/manager:
// parallel parts from a sequential reader, CRC32 checksums per part, and
// AbortMultipartUpload on any failure.
type managerUploader struct{}

func (managerUploader) Upload(ctx context.Context, client *s3.Client, in objectUpload) error {
	//lint:ignore SA1019 manager is deprecated upstream; it stays behind objectUploader until transfermanager reaches 1.0
	up := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = in.PartSize
		u.Concurrency = in.Concurrency
		u.LeavePartsOnError = false
		if in.Before != nil {
			u.ClientOptions = append(u.ClientOptions, func(o *s3.Options) {
				o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
					return st.Initialize.Add(beforeCompleting(in.Before), middleware.After)
				})
			})
		}
	})
	//lint:ignore SA1019 see above
	_, err := up.Upload(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(in.Bucket),
		Key:               aws.String(in.Key),
		Body:              in.Body,
		ContentType:       aws.String("application/octet-stream"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		if aerr := abortLeftover(ctx, client, in, err); aerr != nil {
			return &AbortError{Err: aerr, Cause: fmt.Errorf("uploading %s to S3: %w", path.Base(in.Key), s3Cause(err))}
		}
		return fmt.Errorf("uploading %s to S3: %w", path.Base(in.Key), s3Cause(err))
	}
	return nil
}

// AbortError: a failed multipart upload could not be aborted, so it is
// still open in S3 (holding its parts until the bucket's lifecycle rule
// removes them). Jamf Pro never lists it.
type AbortError struct {
	Err   error // the abort's own failure
	Cause error // why the upload was being aborted
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("%v; the multipart upload could not be aborted (%v), so it stays open in S3", e.Cause, e.Err)
}

func (e *AbortError) Unwrap() error { return e.Cause }

// beforeCompleting calls before ahead of the request that makes the
// object (CompleteMultipartUpload, or a single PutObject); its error
// fails that request, and the manager aborts the upload.
func beforeCompleting(before func(context.Context) error) middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("jcds2BeforeCompleting", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if op := awsmiddleware.GetOperationName(ctx); op == "CompleteMultipartUpload" || op == "PutObject" {
			if err := before(ctx); err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
		}
		return next.HandleInitialize(ctx, in)
	})
}

// abortLeftover aborts a multipart upload the manager could not abort
// itself because its context had already ended (an interrupt): on a
// short deadline of its own, so an interrupted run still leaves no
// open upload, and still exits within seconds.
//
// It returns the abort's failure, so that the run never says "aborted"
// of an upload S3 still holds open: S3 not answering within the
// deadline is one. An upload already gone (NoSuchUpload: the manager
// aborted it) counts as aborted.
func abortLeftover(ctx context.Context, client *s3.Client, in objectUpload, err error) error {
	var mf manager.MultiUploadFailure
	if ctx.Err() == nil || !errors.As(err, &mf) || mf.UploadID() == "" {
		return nil
	}
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, aerr := client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), UploadId: aws.String(mf.UploadID())})
	var ae smithy.APIError
	switch {
	case aerr == nil, errors.As(aerr, &ae) && ae.ErrorCode() == "NoSuchUpload":
		return nil
	case abortCtx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("S3 did not answer the abort within %s", abortTimeout)
	}
	return s3Cause(aerr)
}

// abortTimeout bounds the abort of an interrupted upload.
const abortTimeout = 5 * time.Second

// s3Cause keeps S3's own error code and message, which the manager's
// error buries after the upload id.
func s3Cause(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("S3 answered %s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}
