package distpoint

// The SMB client is github.com/cloudsoda/go-smb2, the maintained fork of
// github.com/hirochachacha/go-smb2: the original has had no release
// since v1.1.0 and the Go module proxy refuses to serve it here (403),
// while the fork is committed to in 2026, takes a context on Dial and
// per share (so an interrupt or a stalled server ends the copy), and
// speaks SMB 2.0.2 to 3.1.1 with signing and encryption, pure Go: no
// mount, no shell, no password on any command line.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"time"

	"github.com/cloudsoda/go-smb2"
)

// NTSTATUS codes worth a precise message.
const (
	statusLogonFailure    = 0xC000006D
	statusAccountDisabled = 0xC0000072
	statusPasswordExpired = 0xC0000071
	statusBadNetworkName  = 0xC00000CC
	statusDiskFull        = 0xC000007F
	statusQuotaExceeded   = 0xC0000044
)

// cleanupTimeout bounds the removal of a temporary file after a failure,
// which runs on a fresh context because the run's may be cancelled. A
// variable so a test of a hung server need not wait for it.
var cleanupTimeout = 30 * time.Second

// connect opens the share: the login observes ctx, the file I/O ioctx
// (see withWatchdog).
func connect(ctx, ioctx context.Context, loc location, s Share) (backend, error) {
	if loc.scheme == "file" {
		return openDir(loc)
	}
	b := &smbBackend{ctx: ioctx, run: ctx, loc: loc, cred: s}
	if err := b.dial(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

type smbBackend struct {
	ctx   context.Context
	run   context.Context // ends on an interrupt (or a stall)
	loc   location
	cred  Share
	sess  *smb2.Session
	share *smb2.Share // bound to ctx
	ended bool        // the session was logged off
}

func (b *smbBackend) dial(ctx context.Context) error {
	user, domain := b.cred.Username, ""
	if d, u, ok := strings.Cut(user, `\`); ok {
		domain, user = d, u
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: user, Password: b.cred.Password, Domain: domain}}
	sess, err := d.Dial(dctx, b.loc.addr)
	if err != nil {
		return smbError(fmt.Sprintf("connecting to %s as %s", b.loc.addr, b.cred.Username), err, b.cred.Input)
	}
	share, err := sess.WithContext(dctx).Mount(b.loc.share)
	if err != nil {
		sess.Logoff()
		return smbError("opening share "+b.loc.share, err, b.cred.Input)
	}
	b.sess, b.share = sess, share.WithContext(b.ctx)
	return nil
}

// full maps a name relative to the distribution point's folder onto
// the share.
func (b *smbBackend) full(name string) string {
	return path.Join(b.loc.dir, name)
}

func (b *smbBackend) Stat(name string) (fs.FileInfo, error) {
	fi, err := b.share.Stat(b.full(name))
	return fi, b.wrap(err)
}

func (b *smbBackend) Create(name string) (writeFile, error) {
	f, err := b.share.OpenFile(b.full(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, b.wrap(err)
	}
	return smbFile{f, b}, nil
}

func (b *smbBackend) Open(name string) (io.ReadCloser, error) {
	f, err := b.share.Open(b.full(name))
	if err != nil {
		return nil, b.wrap(err)
	}
	return f, nil
}

func (b *smbBackend) Rename(oldName, newName string) error {
	return b.wrap(b.share.Rename(b.full(oldName), b.full(newName)))
}

func (b *smbBackend) Partials(dir string) ([]fs.FileInfo, error) {
	names, err := b.share.Glob(b.full(dir) + "/" + partialPrefix + "*")
	if err != nil {
		return nil, b.wrap(err)
	}
	var out []fs.FileInfo
	for _, n := range names {
		if fi, err := b.share.Stat(n); err == nil && fi.Mode().IsRegular() {
			out = append(out, fi)
		}
	}
	return out, nil
}

func (b *smbBackend) Remove(name string) error {
	return b.wrap(b.share.Remove(b.full(name)))
}

// cleanupWithin is how long removing a temporary file or logging off
// may take: short after an interrupt, when the user waits for the exit.
func (b *smbBackend) cleanupWithin() time.Duration {
	if b.run != nil && errors.Is(context.Cause(b.run), context.Canceled) {
		return min(interruptCleanup, cleanupTimeout)
	}
	return cleanupTimeout
}

func (b *smbBackend) Abandon(name string) error {
	within := b.cleanupWithin()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), within)
	defer cancel()
	err := b.abandon(ctx, name)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		// Say what happened, not Go's "context deadline exceeded".
		return fmt.Errorf("the share did not answer within %s", within)
	}
	return err
}

func (b *smbBackend) abandon(ctx context.Context, name string) error {
	err := b.share.WithContext(ctx).Remove(b.full(name))
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return b.wrap(err)
	}
	// The file may still be open in this session (its close failed), or
	// the connection broke: end the session, which makes the server close
	// its handles, and try once over a new one.
	b.sess.WithContext(ctx).Logoff()
	b.ended = true
	fresh := &smbBackend{ctx: ctx, run: b.run, loc: b.loc, cred: b.cred}
	if derr := fresh.dial(ctx); derr != nil {
		return b.wrap(err)
	}
	defer fresh.Close()
	return fresh.wrap(fresh.share.Remove(fresh.full(name)))
}

func (b *smbBackend) Close() error {
	if b.ended {
		return nil
	}
	b.ended = true
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), b.cleanupWithin())
	defer cancel()
	b.share.WithContext(ctx).Umount()
	return b.sess.WithContext(ctx).Logoff()
}

// wrap gives a server refusal a message saying what to do.
func (b *smbBackend) wrap(err error) error {
	if err == nil {
		return nil
	}
	var re *smb2.ResponseError
	switch {
	case errors.As(err, &re) && (re.Code == statusDiskFull || re.Code == statusQuotaExceeded):
		return fmt.Errorf("%w: the share is full; free space on it and run again", err)
	case errors.Is(err, fs.ErrPermission):
		// The library maps STATUS_ACCESS_DENIED to fs.ErrPermission.
		return fmt.Errorf("%w: %s may not write there; give it write access to Packages", err, b.cred.Username)
	}
	return err
}

// smbFile adds the backend's error messages to writes.
type smbFile struct {
	f *smb2.File
	b *smbBackend
}

func (f smbFile) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	return n, f.b.wrap(err)
}
func (f smbFile) Sync() error  { return f.b.wrap(f.f.Sync()) }
func (f smbFile) Close() error { return f.b.wrap(f.f.Close()) }

// smbError explains login and share-name failures in the user's terms.
func smbError(doing string, err error, input string) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: interrupted: %w", doing, err)
	}
	var re *smb2.ResponseError
	if errors.As(err, &re) {
		switch re.Code {
		case statusLogonFailure:
			return fmt.Errorf("%s: the server refused the user name or password: check %s's user name and password", doing, input)
		case statusAccountDisabled, statusPasswordExpired:
			return fmt.Errorf("%s: the account is disabled or its password expired (%v): fix the account or give another", doing, err)
		case statusBadNetworkName:
			return fmt.Errorf("%s: the server has no such share: check the share name in %s", doing, input)
		}
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s: access denied: give the account access to the share", doing)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: check the server name and port in %s, and that the server is up", doing, err, input)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
