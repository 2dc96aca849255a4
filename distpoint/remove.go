package distpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Removing a package from the file shares and the S3 point (prune). Kept
// to this one file so it can move onto the destinations interface as it
// lands. A file already gone is not an error: a delete that was cut
// short is finished by the next run, which asks for it again.

// Removed is one destination's removal: Gone says the file was there.
type Removed struct {
	Target, Input string
	Gone          bool
	Err           error
}

// RemoveFromShares deletes Packages/<name> on every share, in order.
func RemoveFromShares(ctx context.Context, shares []Share, name string, opts Options) []Removed {
	log := opts.Log
	if log == nil {
		log = nopLogger{}
	}
	var out []Removed
	for _, s := range shares {
		log.Secret(s.Password)
		r := Removed{Target: s.String(), Input: s.Input}
		r.Gone, r.Err = removeFromShare(ctx, s, name, opts)
		if r.Err != nil {
			r.Err = fmt.Errorf("removing %s from file share %s: %w", name, r.Target, r.Err)
		}
		out = append(out, r)
	}
	return out
}

func removeFromShare(ctx context.Context, s Share, name string, opts Options) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, interrupted(ctx, err)
	}
	if err := s.Validate(); err != nil {
		return false, err
	}
	if err := checkName(name); err != nil {
		return false, err
	}
	loc, _ := parseShareURL(s.URL)
	ctx, ioctx, dog := withWatchdog(ctx, opts.stall())
	defer dog.stop()
	b, err := connect(ctx, ioctx, loc, s)
	if err != nil {
		return false, err
	}
	defer b.Close()
	err = b.Remove(packagesDir + "/" + name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// RemoveFromS3 deletes s3://bucket/<name> (S3 answers a missing key
// with success too).
func RemoveFromS3(ctx context.Context, t S3Target, name string, opts Options) Removed {
	log := opts.Log
	if log == nil {
		log = nopLogger{}
	}
	r := Removed{Target: "s3://" + t.Bucket + "/" + name, Input: "S3_BUCKET_NAME"}
	if err := checkName(name); err != nil {
		r.Err = err
		return r
	}
	client, err := newS3Client(ctx, t, opts.stall(), log)
	if err == nil {
		_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(t.Bucket), Key: aws.String(name)})
	}
	if err != nil {
		r.Err = fmt.Errorf("removing %s: %w", r.Target, err)
		return r
	}
	r.Gone = true
	return r
}
