package jcds2

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// bundleDirName is the folder, in a cache directory, that holds the zips
// of bundle packages.
const bundleDirName = "jcds2-uploader-bundles"

// zipBundle zips a bundle package (a .pkg directory) the way Jamf Pro
// wants it: X.pkg.zip holding the X.pkg folder. Entries are sorted and
// carry the files' own times, so an unchanged bundle gives the same bytes
// and the hash comparison still skips it. The MD5 is computed while the
// zip is written and cached, so the zip is never read back to hash it.
//
// Where the zip goes: only into a cache directory of ours, never beside
// the user's files. dir is the cache directory (Request.CacheDir) or its
// jcds2-uploader-bundles folder; the zip goes into that folder. When dir
// is empty, is the bundle's own parent directory or lies inside the
// bundle, the user's cache directory (os.UserCacheDir()/jcds2-uploader/
// jcds2-uploader-bundles) is used instead, or failing that a new
// temporary directory. So the engine may pass req.CacheDir as it is. The
// zip is written to a temporary file there and renamed into place.
//
// Symbolic links: a bundle that is itself a link is resolved first.
// Inside the bundle, a link is kept as a link (as ditto and zip -y keep
// them) when it is relative and what it points at, resolved, is inside
// the bundle. Any other link (absolute, pointing outside the bundle,
// dangling, or a loop) fails the run with an error naming it: following
// it would upload files from outside the package, and storing it would
// ship a link that breaks on every Mac.
//
// An interrupt (ctx) stops the zipping between two reads: a big bundle
// takes minutes, and the temporary zip is removed.
func zipBundle(ctx context.Context, bundle, dir, zipName string, cache *hashCache) (string, error) {
	if zipName == "" || zipName != filepath.Base(zipName) || zipName == "." || zipName == ".." || strings.ContainsAny(zipName, `/\`) {
		return "", fmt.Errorf("zipping bundle %s: %q is not a file name", bundle, zipName)
	}
	root, err := resolveBundle(bundle)
	if err != nil {
		return "", err
	}
	if dir, err = bundleZipDir(bundle, root, dir); err != nil {
		return "", fmt.Errorf("zipping bundle %s: %w", bundle, err)
	}
	out := filepath.Join(dir, zipName)
	tmp, err := os.CreateTemp(dir, ".bundle-*.zip")
	if err != nil {
		return "", fmt.Errorf("zipping bundle: %w", err)
	}
	defer os.Remove(tmp.Name())
	hasher := NewHasher(true, false)
	zw := zip.NewWriter(io.MultiWriter(tmp, hasher))
	parent := filepath.Dir(root)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(parent, p)
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Modified = info.ModTime().UTC().Truncate(2e9)
		switch {
		case d.IsDir():
			hdr.Name += "/"
			_, err = zw.CreateHeader(hdr)
			return err
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := checkBundleLink(bundle, root, realRoot, p, target); err != nil {
				return err
			}
			w, err := zw.CreateHeader(hdr)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, target)
			return err
		case info.Mode().IsRegular():
			hdr.Method = zip.Deflate
			w, err := zw.CreateHeader(hdr)
			if err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, &ctxReader{ctx: ctx, r: f})
			return err
		}
		return nil // sockets, devices, pipes: not part of a package
	})
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	sum := hasher.Sums()
	var linkErr *PackageError
	if errors.As(err, &linkErr) {
		return "", linkErr
	}
	if ctx.Err() != nil {
		return "", &InterruptedError{Step: "zipping bundle " + bundle, Left: "nothing was changed in Jamf Pro; the partial zip was removed"}
	}
	if err != nil {
		return "", fmt.Errorf("zipping bundle %s: %w", bundle, err)
	}
	// Keep the old zip (and its cached hash) when the bytes are the same:
	// judged by reading the old zip, never by a cache entry, which could
	// say anything about a file that a run did not write.
	old := ""
	if st, err := os.Lstat(out); err == nil && st.Mode().IsRegular() && st.Size() == zipSize(tmp.Name()) {
		h, _ := HashFile(out, true, false)
		old = h.MD5
	}
	if !SameHash(old, sum.MD5) {
		if err := os.Rename(tmp.Name(), out); err != nil {
			return "", fmt.Errorf("zipping bundle: %w", err)
		}
	}
	cache.put(out, sum, true) // the zip this run just wrote
	return out, nil
}

// resolveBundle follows bundle when it is a symbolic link (to a link...)
// and returns the directory to zip. Walking the link itself would zip
// the link alone: a 172-byte "package".
func resolveBundle(bundle string) (string, error) {
	st, err := os.Lstat(bundle)
	if err != nil {
		return "", fmt.Errorf("zipping bundle: %w", err)
	}
	root := bundle
	if st.Mode()&fs.ModeSymlink != 0 {
		if root, err = filepath.EvalSymlinks(bundle); err != nil {
			return "", &PackageError{fmt.Sprintf("%s is a symbolic link that cannot be followed (%v): point it at the bundle", strconv.Quote(bundle), err)}
		}
		if root, err = filepath.Abs(root); err != nil {
			return "", fmt.Errorf("zipping bundle: %w", err)
		}
	}
	if st, err = os.Stat(root); err != nil || !st.IsDir() {
		return "", &PackageError{fmt.Sprintf("%s is not a bundle directory", strconv.Quote(bundle))}
	}
	return root, nil
}

// bundleZipDir is where the zip of bundle (resolved: root) is built,
// given the engine's dir (see zipBundle).
func bundleZipDir(bundle, root, dir string) (string, error) {
	if dir != "" && !isBundleParentOrInside(bundle, root, dir) {
		if filepath.Base(filepath.Clean(dir)) != bundleDirName {
			dir = filepath.Join(dir, bundleDirName)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
		return dir, nil
	}
	if d, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(d, "jcds2-uploader", bundleDirName)
		if os.MkdirAll(p, 0o700) == nil && !isBundleParentOrInside(bundle, root, p) {
			return p, nil
		}
	}
	return os.MkdirTemp("", bundleDirName+"-")
}

// isBundleParentOrInside reports whether dir is the directory holding the
// bundle (as given, or resolved), or the bundle itself or inside it.
func isBundleParentOrInside(bundle, root, dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return true
	}
	dirs := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		dirs = append(dirs, real)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	for _, d := range dirs {
		for _, b := range []string{bundle, root, realRoot} {
			b, _ = filepath.Abs(b)
			if sameDir(d, filepath.Dir(b)) || within(b, d) {
				return true
			}
		}
	}
	return false
}

func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// within reports whether p is root or below it, by name.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// PackageError: the package given cannot be sent as it is (a bundle
// link that breaks the rule, a path that is no bundle). Its text starts
// with the path or "bundle"; the edge puts the name of its own input (or
// argument) first.
type PackageError struct{ Msg string }

func (e *PackageError) Error() string { return e.Msg }

// checkBundleLink applies the rule of zipBundle to the link at p, whose
// text is target.
func checkBundleLink(bundle, root, realRoot, p, target string) error {
	rel, _ := filepath.Rel(root, p)
	fail := func(why, fix string) error {
		return &PackageError{fmt.Sprintf("bundle %s holds a symbolic link %s -> %s that %s: %s",
			strconv.Quote(bundle), strconv.Quote(filepath.ToSlash(rel)), strconv.Quote(target), why, fix)}
	}
	const replace = "replace the link with the file it points to, or rebuild the bundle"
	if filepath.IsAbs(target) {
		return fail("is absolute (it would break once the bundle is unzipped on a Mac)", "make it relative, or "+replace)
	}
	if !within(root, filepath.Join(filepath.Dir(p), target)) {
		return fail("points outside the bundle", replace)
	}
	resolved, err := filepath.EvalSymlinks(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("points at nothing", "remove the link or rebuild the bundle")
	case err != nil:
		return fail("cannot be followed ("+err.Error()+")", "remove the link or rebuild the bundle")
	case !within(realRoot, resolved):
		return fail("leads outside the bundle through another link", replace)
	}
	return nil
}

func zipSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}
