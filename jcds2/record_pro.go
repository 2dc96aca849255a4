package jcds2

import (
	"context"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// proStore is the record on the Jamf Pro API (/api/v1/packages).
type proStore struct{ c *jamf.Client }

func (proStore) String() string   { return "Jamf Pro API" }
func (proStore) sha3() bool       { return true }
func (proStore) showsReady() bool { return true }

// find prefers the exact file name, then one differing only in letter
// case (a server may match names that way), then the display name.
func (s proStore) find(ctx context.Context, name, display string, log Logger) (*record, error) {
	list, err := s.c.FindPackages(ctx, name, display)
	if err != nil {
		return nil, needs(err, PrivReadPackages, "looking the package record up")
	}
	var byFile, byFold, byName *jamf.Package
	for i := range list {
		p := &list[i]
		switch {
		case p.FileName == name && byFile == nil:
			byFile = p
		case strings.EqualFold(p.FileName, name) && byFold == nil:
			byFold = p
		case p.PackageName == display && byName == nil:
			byName = p
		}
	}
	p := byFile
	if p == nil && byFold != nil {
		log.Logf(0, "Package record %s names %s, which differs from %s only in letter case: taking it as this package's record", byFold.ID, byFold.FileName, name)
		p = byFold
	}
	if p == nil {
		p = byName
	}
	if p == nil {
		return nil, nil
	}
	return &record{id: p.ID, fileName: p.FileName, display: p.PackageName, hashType: jamf.Deref(p.HashType),
		hashValue: jamf.Deref(p.HashValue), status: p.CloudTransferStatus, size: jamf.Deref(p.Size), raw: p.Raw}, nil
}

func (s proStore) named(ctx context.Context, names []string) (map[string]bool, error) {
	list, err := s.c.PackagesByFileName(ctx, names)
	if err != nil {
		return nil, needs(err, PrivReadPackages, "looking up the records of Name_N copies")
	}
	out := map[string]bool{}
	for _, p := range list {
		for _, n := range names {
			if strings.EqualFold(p.FileName, n) {
				out[n] = true
			}
		}
	}
	return out, nil
}

func (s proStore) category(ctx context.Context, name string) (string, error) {
	id, err := s.c.CategoryID(ctx, name)
	return id, needs(err, PrivReadCategories, "looking the category up")
}

// write merges onto the record as looked up, so what an admin set by
// hand survives; the client drops the server-managed fields.
func (s proStore) write(ctx context.Context, cur *record, v recordValues) (string, error) {
	f := map[string]any{}
	if v.metadata {
		f["packageName"], f["fileName"], f["priority"], f["rebootRequired"] = v.display, v.fileName, v.priority, v.reboot
		if v.category != "" {
			f["categoryId"] = v.category
		}
		for k, val := range map[string]string{"info": v.info, "notes": v.notes, "osRequirements": v.osReq} {
			if val != "" {
				f[k] = val
			}
		}
	}
	switch {
	case v.clearHash:
		f["hashType"], f["hashValue"] = nil, nil
	case v.hashType != "":
		f["hashType"], f["hashValue"] = v.hashType, v.hashValue
	}
	if cur == nil {
		body := map[string]any{
			"fillUserTemplate": false, "osInstall": false, "suppressUpdates": false,
			"suppressFromDock": false, "suppressEula": false, "suppressRegistration": false,
			"info": "", "notes": "", "osRequirements": "", "categoryId": "-1",
		}
		for k, val := range f {
			body[k] = val
		}
		id, err := s.c.CreatePackage(ctx, body)
		return id, needs(err, PrivCreatePackages, "creating the package record")
	}
	merged := make(map[string]any, len(cur.raw))
	for k, val := range cur.raw {
		merged[k] = val
	}
	for k, val := range f {
		merged[k] = val
	}
	return cur.id, needs(s.c.UpdatePackage(ctx, cur.id, merged), PrivUpdatePackages, "updating package record "+cur.id)
}
