package jcds2

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// zipBundle zips a bundle package (a .pkg directory) the way Jamf Pro
// wants it: X.pkg.zip holding the X.pkg folder. Entries are sorted and
// carry the files' own times, so an unchanged bundle gives the same bytes
// and the hash comparison still skips it. The MD5 is computed while the
// zip is written and cached, so the zip is never read back to hash it.
func zipBundle(bundle, dir, zipName string, cache *hashCache) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("zipping bundle: %w", err)
	}
	out := filepath.Join(dir, zipName)
	tmp, err := os.CreateTemp(dir, ".bundle-*.zip")
	if err != nil {
		return "", fmt.Errorf("zipping bundle: %w", err)
	}
	defer os.Remove(tmp.Name())
	hasher := NewHasher(true, false)
	zw := zip.NewWriter(io.MultiWriter(tmp, hasher))
	parent := filepath.Dir(bundle)
	err = filepath.WalkDir(bundle, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
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
			_, err = io.Copy(w, f)
			return err
		}
		return nil // sockets, devices: not part of a package
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
	if err != nil {
		return "", fmt.Errorf("zipping bundle %s: %w", bundle, err)
	}
	// Keep the old zip (and its cached hash) when the bytes are the same.
	old := cache.Get(out).MD5
	if old == "" {
		if _, err := os.Stat(out); err == nil {
			h, _ := HashFile(out, true, false)
			old = h.MD5
		}
	}
	if old != sum.MD5 {
		if err := os.Rename(tmp.Name(), out); err != nil {
			return "", fmt.Errorf("zipping bundle: %w", err)
		}
	}
	cache.Put(out, sum)
	return out, nil
}
