package distpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// ShareDest is a file share (smb:// or file://) as a dest.Destination:
// the package lives at Packages/<name> under the share's URL. Each call
// connects on its own, so the engine may observe, plan and only then put.
type ShareDest struct {
	Share Share
	Log   Logger
	// StallTimeout ends the work when it makes no progress for this
	// long (a server that stopped answering); 0 means 2 minutes.
	StallTimeout time.Duration
}

var _ dest.Destination = (*ShareDest)(nil)

func (d *ShareDest) String() string { return "file share " + d.Share.String() }

// Cloud: a file share is never Jamf Pro's cloud distribution point.
func (d *ShareDest) Cloud() bool { return false }

func (d *ShareDest) log() Logger {
	if d.Log == nil {
		return nopLogger{}
	}
	return d.Log
}

// open connects and checks the Packages folder; done ends the watchdog
// and closes the connection.
func (d *ShareDest) open(ctx context.Context, name string) (b backend, dog *watchdog, cctx context.Context, done func(), err error) {
	d.log().Secret(d.Share.Password)
	if err := d.Share.Validate(); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := checkName(name); err != nil {
		return nil, nil, nil, nil, err
	}
	loc, _ := parseShareURL(d.Share.URL)
	ctx, ioctx, dog := withWatchdog(ctx, stall(d.StallTimeout))
	b, err = connect(ctx, ioctx, loc, d.Share)
	if err != nil {
		dog.stop()
		return nil, nil, nil, nil, d.scrub(err)
	}
	dog.kick()
	done = func() { b.Close(); dog.stop() }
	if st, err := b.Stat(packagesDir); err != nil || !st.IsDir() {
		done()
		return nil, nil, nil, nil, fmt.Errorf("%s has no %s folder (%v): point %s at the folder that holds the distribution point's Packages folder", d.Share, packagesDir, orNotDir(err), d.Share.Input)
	}
	return b, dog, ctx, done, nil
}

func (d *ShareDest) scrub(err error) error { return scrub(err, d.Share.Password) }

// Observe stats Packages/<name>; it writes nothing. The stamp is size and modification time: a copy renames a new
// file into place, so new bytes come with a new time.
func (d *ShareDest) Observe(ctx context.Context, name string) (dest.Holding, error) {
	b, _, _, done, err := d.open(ctx, name)
	if err != nil {
		return dest.Holding{}, err
	}
	defer done()
	return stat(b, packagesDir+"/"+name)
}

func stat(b backend, name string) (dest.Holding, error) {
	st, err := b.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dest.Holding{}, nil
	case err != nil:
		return dest.Holding{}, fmt.Errorf("checking %s: %w", name, err)
	case st.IsDir():
		return dest.Holding{}, fmt.Errorf("%s is a folder: remove it or choose another pkg_name", name)
	}
	return dest.Holding{Present: true, Size: st.Size(), Stamp: fmt.Sprintf("%d|%d", st.Size(), st.ModTime().UnixNano())}, nil
}

// Open reads Packages/<name> back.
func (d *ShareDest) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	b, dog, cctx, done, err := d.open(ctx, name)
	if err != nil {
		return nil, err
	}
	f, err := b.Open(packagesDir + "/" + name)
	if err != nil {
		done()
		return nil, fmt.Errorf("opening %s/%s on %s to read it back: %w", packagesDir, name, d.Share, d.scrub(err))
	}
	return &readBack{r: &progressReader{ctx: cctx, r: f, dog: dog}, close: func() error { err := f.Close(); done(); return err }}, nil
}

// Put copies to a temporary name, flushes, checks the size and renames
// over Packages/<name> (writeThenRename).
func (d *ShareDest) Put(ctx context.Context, name string, src io.Reader, size int64) (dest.Holding, error) {
	b, dog, cctx, done, err := d.open(ctx, name)
	if err != nil {
		return dest.Holding{}, err
	}
	defer done()
	sweepPartials(b, d.log()) // temporary files dead runs left
	dst := packagesDir + "/" + name
	if _, err := writeThenRename(cctx, b, d.Share.String(), dst, src, size, d.log(), dog); err != nil {
		return dest.Holding{}, d.scrub(err)
	}
	return stat(b, dst)
}

// Delete removes Packages/<name>.
func (d *ShareDest) Delete(ctx context.Context, name string) error {
	b, _, _, done, err := d.open(ctx, name)
	if err != nil {
		return err
	}
	defer done()
	if err := b.Remove(packagesDir + "/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s/%s on %s: %w", packagesDir, name, d.Share, d.scrub(err))
	}
	return nil
}

type readBack struct {
	r     io.Reader
	close func() error
}

func (r *readBack) Read(b []byte) (int, error) { return r.r.Read(b) }
func (r *readBack) Close() error               { return r.close() }
