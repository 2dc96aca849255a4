//go:build !(darwin || linux || freebsd || netbsd || openbsd || dragonfly)

package lock

import (
	"context"
	"time"
)

// Acquire is a no-op where flock(2) is missing: runs are not serialized.
// The binary ships for macOS and Linux, which have it.
func Acquire(ctx context.Context, dir, key string, notify func(holderInfo string)) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return func() {}, nil
}

// AcquireWithin is Acquire: there is nothing to wait for.
func AcquireWithin(ctx context.Context, dir, key string, limit time.Duration, notify func(holderInfo string)) (release func(), err error) {
	return Acquire(ctx, dir, key, notify)
}
