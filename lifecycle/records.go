package lifecycle

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// records is where a prune reads and deletes package records: the Jamf
// Pro API from 11.5, the Classic API before (as the upload engine's
// record stores). The plan, the order of the deletes and the read-back
// are the same on both.
type records interface {
	// matching returns the records whose packageName starts with prefix.
	matching(ctx context.Context, prefix string) ([]jamf.Package, error)
	// naming returns the records that name any of the files.
	naming(ctx context.Context, files []string) ([]jamf.Package, error)
	// canDelete probes the delete privilege (a delete of no record).
	canDelete(ctx context.Context) error
	delete(ctx context.Context, id string) error
	// left returns which of the deleted records are still there.
	left(ctx context.Context, deleted []jamf.Package) ([]jamf.Package, error)
}

// proRecords: GET /api/v1/packages, paged, filtered by RSQL.
type proRecords struct{ c *jamf.Client }

func (r proRecords) matching(ctx context.Context, prefix string) ([]jamf.Package, error) {
	var pkgs []jamf.Package
	err := r.c.EachPackage(ctx, func(pkg jamf.Package) error {
		if strings.HasPrefix(pkg.PackageName, prefix) {
			pkgs = append(pkgs, pkg)
		}
		return nil
	})
	return pkgs, err
}

// naming asks 20 names at a time (one RSQL filter each, so no URL grows
// without end).
func (r proRecords) naming(ctx context.Context, names []string) ([]jamf.Package, error) {
	var out []jamf.Package
	for len(names) > 0 {
		n := min(len(names), 20)
		got, err := r.c.PackagesByFileName(ctx, names[:n])
		if jamf.IsStatus(err, 403) {
			return nil, &jamf.PrivilegeError{Privilege: jamf.PrivReadPackages, Step: "looking up records by file name", Err: err}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		names = names[n:]
	}
	return out, nil
}

func (r proRecords) canDelete(ctx context.Context) error { return r.c.CanDeletePackages(ctx) }

func (r proRecords) delete(ctx context.Context, id string) error {
	err := r.c.DeletePackage(ctx, id)
	if jamf.IsStatus(err, 403) {
		return &jamf.PrivilegeError{Privilege: jamf.PrivDeletePackages, Step: "deleting package record " + id, Err: err}
	}
	return err
}

func (r proRecords) left(ctx context.Context, deleted []jamf.Package) ([]jamf.Package, error) {
	names := make([]string, len(deleted))
	ids := map[string]bool{}
	for i, d := range deleted {
		names[i] = d.FileName
		ids[d.ID] = true
	}
	found, err := r.naming(ctx, names)
	var out []jamf.Package
	for _, p := range found {
		if ids[p.ID] {
			out = append(out, p)
		}
	}
	return out, err
}

// classicRecords: /JSSResource/packages. Its list names records by id
// and name only; a file name costs a request per record.
type classicRecords struct{ c *jamf.Client }

func (r classicRecords) matching(ctx context.Context, prefix string) ([]jamf.Package, error) {
	names, err := r.c.ClassicPackageNames(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int
	for id, name := range names {
		if strings.HasPrefix(name, prefix) {
			ids = append(ids, id)
		}
	}
	return r.read(ctx, ids)
}

func (r classicRecords) read(ctx context.Context, ids []int) ([]jamf.Package, error) {
	sort.Ints(ids)
	pkgs, err := r.c.ClassicPackages(ctx, ids)
	sort.Slice(pkgs, func(i, j int) bool { return idLess(pkgs[i].ID, pkgs[j].ID) })
	return pkgs, err
}

// naming reads every record (the Classic API cannot filter by file
// name); only a run that deletes asks.
func (r classicRecords) naming(ctx context.Context, files []string) ([]jamf.Package, error) {
	names, err := r.c.ClassicPackageNames(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	all, err := r.read(ctx, ids)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, f := range files {
		want[strings.ToLower(f)] = true
	}
	var out []jamf.Package
	for _, p := range all {
		if want[strings.ToLower(p.FileName)] {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r classicRecords) canDelete(ctx context.Context) error {
	return r.c.ClassicCanDeletePackages(ctx)
}

func (r classicRecords) delete(ctx context.Context, id string) error {
	return r.c.ClassicDeletePackage(ctx, id)
}

func (r classicRecords) left(ctx context.Context, deleted []jamf.Package) ([]jamf.Package, error) {
	var out []jamf.Package
	for _, d := range deleted {
		n, err := strconv.Atoi(d.ID)
		if err != nil {
			continue
		}
		p, err := r.c.ClassicPackage(ctx, n)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}
