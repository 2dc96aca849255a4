package distpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/inflight"
)

// backend is a connected share: paths are slash-separated and relative
// to the folder that holds Packages. The SMB and file:// backends
// implement it, so both follow exactly the same copy procedure.
type backend interface {
	Stat(name string) (fs.FileInfo, error)
	// Create makes a new file and fails if one exists.
	Create(name string) (writeFile, error)
	Open(name string) (io.ReadCloser, error)
	// Rename replaces newName if it exists.
	Rename(oldName, newName string) error
	// Partials lists the leftover temporary files in dir.
	Partials(dir string) ([]fs.FileInfo, error)
	Remove(name string) error
	// Abandon removes a temporary file after a failure: on a fresh,
	// short deadline (the run's context may be cancelled), and over a new
	// connection if need be. The backend may be unusable afterwards.
	Abandon(name string) error
	Close() error
}

type writeFile interface {
	io.Writer
	Sync() error
	Close() error
}

const (
	packagesDir   = "Packages"
	partialPrefix = ".jcds2-partial-"
	// A partial file not written to for this long belongs to a run that
	// died (a live copy touches it every few milliseconds); the next run
	// deletes it.
	partialMaxAge = time.Hour
)

// writeThenRename is the copy: exactly the size bytes read from r go
// to a temporary name in Packages, are flushed and their size checked,
// then renamed over dst (so dst never holds half a package) and the size
// is checked again; on any error or cancellation the temporary file is
// removed. where names the share for what a stopped run leaves (#22).
func writeThenRename(ctx context.Context, b backend, where, dst string, r io.Reader, size int64, log Logger, dog *watchdog) (written int64, err error) {
	tmp := packagesDir + "/" + partialPrefix + randomHex(8)
	w, err := b.Create(tmp)
	if err != nil {
		return 0, fmt.Errorf("creating a temporary file in %s: %w", packagesDir, err)
	}
	// Until it is renamed or removed, the temporary file is what a run
	// stopped at once leaves on the share.
	left := inflight.Leave(ctx, fmt.Sprintf("the temporary file %s on %s (a later run deletes it after an hour, or delete it by hand)", tmp, where))
	defer func() {
		if err == nil {
			left()
			return
		}
		if w != nil {
			w.Close()
		}
		if rerr := b.Abandon(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("%w; the temporary file %s could not be removed (%v): delete it by hand, or a later run deletes it after an hour", err, tmp, rerr)
		} else {
			left()
		}
	}()
	src := &progressReader{ctx: ctx, r: newExactReader(r, size), total: size, log: log, dog: dog}
	written, err = io.CopyBuffer(w, src, make([]byte, 1<<20))
	if err != nil {
		return written, fmt.Errorf("writing %s: %w", tmp, interrupted(ctx, err))
	}
	if written != size {
		return written, fmt.Errorf("the local package changed size while it was copied (%d bytes read, %d expected): rebuild it and run again", written, size)
	}
	if err = w.Sync(); err != nil {
		return written, fmt.Errorf("flushing %s: %w", tmp, interrupted(ctx, err))
	}
	err = w.Close()
	w = nil
	if err != nil {
		return written, fmt.Errorf("closing %s: %w", tmp, interrupted(ctx, err))
	}
	if err = checkSize(b, tmp, size); err != nil {
		return written, err
	}
	if err = ctx.Err(); err != nil {
		return written, interrupted(ctx, err)
	}
	if err = b.Rename(tmp, dst); err != nil {
		return written, fmt.Errorf("renaming %s to %s: %w", tmp, dst, interrupted(ctx, err))
	}
	// The bytes are under the real name now: a failed check below cannot
	// be undone by removing the temporary file, only reported.
	if cerr := checkSize(b, dst, size); cerr != nil {
		return written, fmt.Errorf("%w: %w", cerr, ErrRetryReplacing)
	}
	return written, nil
}

func checkSize(b backend, name string, want int64) error {
	st, err := b.Stat(name)
	if err != nil {
		return fmt.Errorf("checking %s after the copy: %w", name, err)
	}
	if st.Size() != want {
		return fmt.Errorf("%s holds %d bytes after the copy, not %d (is the share full?)", name, st.Size(), want)
	}
	return nil
}

// sweepPartials deletes temporary files that dead runs left behind.
// Best effort: a failure here never fails the copy.
func sweepPartials(b backend, log Logger) {
	list, err := b.Partials(packagesDir)
	if err != nil {
		log.Logf(2, "Could not list leftover temporary files: %v", err)
		return
	}
	for _, fi := range list {
		if time.Since(fi.ModTime()) < partialMaxAge {
			continue
		}
		name := packagesDir + "/" + fi.Name()
		if err := b.Remove(name); err != nil {
			log.Logf(1, "Could not delete the leftover temporary file %s: %v", name, err)
		} else {
			log.Logf(1, "Deleted %s, left behind by an interrupted earlier copy", name)
		}
	}
}

func orNotDir(err error) error {
	if err == nil {
		return errors.New("not a folder")
	}
	return err
}

// checkName refuses names that would escape Packages or hide there.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("package name %q cannot be a file name in Packages: give a plain file name", name)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// interrupted makes a cancellation say so, rather than surface as
// whatever I/O error the cancellation caused.
func interrupted(ctx context.Context, err error) error {
	cause := context.Cause(ctx)
	switch {
	case cause == nil:
		return err
	case errors.Is(cause, context.Canceled):
		return fmt.Errorf("interrupted: %w", cause)
	case errors.Is(err, cause):
		return err
	}
	return fmt.Errorf("%w (%v)", cause, err)
}

// scrub removes a password from an error text (belt and braces: no error
// built here includes one, but a library error might echo input).
func scrub(err error, secret string) error {
	if err == nil || len(secret) < 4 || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}

type nopLogger struct{}

func (nopLogger) Logf(int, string, ...any) {}
func (nopLogger) Secret(string)            {}
func (nopLogger) Progress(int64, int64)    {}
