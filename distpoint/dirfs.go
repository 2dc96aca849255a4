package distpoint

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// volumesDir is where macOS mounts shares; a variable so tests can stand
// in for it.
var volumesDir = "/Volumes"

// dirBackend is a file:// share: a local (or already mounted) directory.
// os.Root confines every name to it, symlinks included.
type dirBackend struct {
	root *os.Root
}

// openDir opens loc.dir, or /Volumes/<loc.dir> when loc.dir does not
// exist and that does: JamfPackageUploader reads file:///X as /Volumes/X,
// and recipes written for it must keep working.
func openDir(loc location) (*dirBackend, error) {
	dir := loc.dir
	if _, err := os.Stat(dir); err != nil {
		alt := path.Join(volumesDir, dir)
		if _, aerr := os.Stat(alt); aerr == nil {
			dir = alt
		} else {
			return nil, fmt.Errorf("the folder %s cannot be used (%w): check the path, or mount the share first", dir, err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the folder %s: %w", dir, err)
	}
	return &dirBackend{root: root}, nil
}

func (d *dirBackend) Stat(name string) (fs.FileInfo, error) { return d.root.Stat(name) }

func (d *dirBackend) Create(name string) (writeFile, error) {
	return d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

func (d *dirBackend) Open(name string) (io.ReadCloser, error) { return d.root.Open(name) }

func (d *dirBackend) Rename(oldName, newName string) error {
	return d.root.Rename(oldName, newName)
}

func (d *dirBackend) Remove(name string) error { return d.root.Remove(name) }

func (d *dirBackend) Abandon(name string) error { return d.root.Remove(name) }

func (d *dirBackend) Partials(dir string) ([]fs.FileInfo, error) {
	f, err := d.root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var out []fs.FileInfo
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), partialPrefix) || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out = append(out, fi)
		}
	}
	return out, nil
}

func (d *dirBackend) Close() error { return d.root.Close() }
