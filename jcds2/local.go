package jcds2

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// localFile is the package on disk as this run found it: the file to
// upload (the zip for a bundle), its identity, and what is known of its
// hashes. The hashes are trusted only while the identity holds.
type localFile struct {
	path  string
	size  int64
	ident string // size, mtime and inode: what "unchanged" means
	cache *hashCache
	Hashes
}

// prepareLocal resolves a symlinked package path, zips a bundle into the
// cache directory (never beside the user's files) and records the
// file's identity. The cached hashes are taken only without
// Request.Replace: a run asked to replace compares the server's file with
// the bytes on disk, hashed now, never with what a cache file says.
func prepareLocal(ctx context.Context, req *Request, log Logger, cache *hashCache) (*localFile, error) {
	path, err := filepath.EvalSymlinks(req.PkgPath)
	if err != nil {
		return nil, fmt.Errorf("the package %s: %w", req.PkgPath, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("the package %s: %w", req.PkgPath, err)
	}
	if st.IsDir() {
		log.Logf(1, "Zipping bundle package %s", path)
		// zipBundle picks our cache, never the folder beside the bundle.
		if path, err = zipBundle(ctx, path, req.CacheDir, req.PkgName, cache); err != nil {
			return nil, err
		}
		if st, err = os.Stat(path); err != nil {
			return nil, err
		}
	}
	lf := &localFile{path: path, size: st.Size(), ident: identity(st), cache: cache}
	lf.Hashes = cache.Get(path)
	if req.Replace {
		lf.Hashes = Hashes{}
	}
	return lf, nil
}

// PreparePackage returns the file a run sends for req: Request.PkgPath with
// its symlinks resolved, or a bundle's zip, built in the cache
// directory. A caller that copies the package elsewhere first uses it
// and hands the engine the same file.
func PreparePackage(ctx context.Context, req *Request, log Logger) (string, error) {
	lf, err := prepareLocal(ctx, req, log, openHashCache(req.CacheDir, log))
	if err != nil {
		return "", err
	}
	return lf.path, nil
}

// cacheDir is where this tool keeps hashes, tokens, zips and locks.
func cacheDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "jcds2-uploader")
	}
	return filepath.Join(os.TempDir(), "jcds2-uploader")
}

func identity(st os.FileInfo) string {
	return fmt.Sprintf("%d|%d|%s", st.Size(), st.ModTime().UnixNano(), fileID(st))
}

// unchanged re-reads the file's identity.
func (l *localFile) unchanged() error {
	st, err := os.Stat(l.path)
	if err != nil {
		return &ChangedError{Path: l.path, What: err.Error()}
	}
	if id := identity(st); id != l.ident {
		return &ChangedError{Path: l.path, What: fmt.Sprintf("size, time or inode now %s, was %s", id, l.ident)}
	}
	return nil
}

// ensure makes the wanted hashes known, from the cache or one read of
// the file; they are cached only if the file held still while read.
func (l *localFile) ensure(log Logger, md5, sha3 bool) error {
	needMD5, needSHA3 := md5 && l.MD5 == "", sha3 && l.SHA3 == ""
	if !needMD5 && !needSHA3 {
		log.Logf(2, "Using the cached hash of %s (same path, size, mtime and inode)", l.path)
		return nil
	}
	start := time.Now()
	// The cache hashes and stores only a file that held still meanwhile;
	// unchanged adds "and is still the one this run first looked at".
	h, err := l.cache.HashAndPut(l.path, needMD5, needSHA3)
	if err != nil {
		return err
	}
	if err := l.unchanged(); err != nil {
		return err
	}
	l.learn(h)
	log.Logf(2, "Hashed %s in %s", l.path, time.Since(start).Round(time.Millisecond))
	return nil
}

// learn keeps hashes computed from the stable file (or confirmed by the
// server for the bytes we sent) and caches them.
func (l *localFile) learn(h Hashes) {
	if h.MD5 != "" {
		l.MD5 = h.MD5
	}
	if h.SHA3 != "" {
		l.SHA3 = h.SHA3
	}
	l.cache.Put(l.path, l.Hashes)
}

// open returns a reader of the file that fails, before its last byte
// is delivered, if the file is not the one observed: a caller that
// completes an upload only at EOF then never completes a torn one.
func (l *localFile) open(progress func(int64)) (*stableReader, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, fmt.Errorf("opening the package: %w", err)
	}
	return &stableReader{f: f, l: l, progress: progress}, nil
}

type stableReader struct {
	f        *os.File
	l        *localFile
	n        int64
	progress func(int64)
}

func (s *stableReader) Read(b []byte) (int, error) {
	if left := s.l.size - s.n; int64(len(b)) > left+1 {
		b = b[:left+1] // read one byte past the end to see growth
	}
	n, err := s.f.Read(b)
	s.n += int64(n)
	if s.n > s.l.size {
		return 0, &ChangedError{Path: s.l.path, What: "it grew"}
	}
	if n > 0 && s.progress != nil {
		s.progress(int64(n))
	}
	if err == io.EOF {
		if s.n != s.l.size {
			return n, &ChangedError{Path: s.l.path, What: fmt.Sprintf("it shrank to %d bytes", s.n)}
		}
		if cerr := s.l.unchanged(); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

func (s *stableReader) Close() error { return s.f.Close() }
