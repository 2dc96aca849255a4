package jcds2

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// classicStore is the record on the Classic API (/JSSResource/packages),
// for servers before 11.5. It finds by display name only, sets the
// category by name, takes MD5 hashes, and shows no status or size.
type classicStore struct{ c *jamf.Client }

func (classicStore) String() string   { return "Classic API" }
func (classicStore) sha3() bool       { return false }
func (classicStore) showsReady() bool { return false }

func (s classicStore) find(ctx context.Context, _, display string, _ Logger) (*record, error) {
	p, err := s.c.ClassicFindPackage(ctx, display)
	if err != nil || p == nil {
		return nil, needs(err, PrivReadPackages, "looking the package record up")
	}
	return &record{id: fmt.Sprint(p.ID), fileName: p.Filename, display: p.Name, hashType: p.HashType, hashValue: p.HashValue, classic: p}, nil
}

// named: the Classic API has no search by file name; every candidate
// counts as unnamed, as before 11.5 JCDS copies were handled.
func (classicStore) named(context.Context, []string) (map[string]bool, error) { return nil, nil }

func (s classicStore) category(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	return name, needs(s.c.ClassicCategoryExists(ctx, name), PrivReadCategories, "looking the category up")
}

// write starts from the record as read (a copy: the observed world is
// not changed), so what an admin set by hand survives. An omitted hash
// element is left as it is: the Classic API cannot be told to clear one.
func (s classicStore) write(ctx context.Context, cur *record, v recordValues) (string, error) {
	p := &classicxml.Package{Priority: 10, RequiredProcessor: "None"}
	id := 0
	if cur != nil && cur.classic != nil {
		cp := *cur.classic
		p, id = &cp, cur.classic.ID
	}
	p.ID = 0
	if v.metadata {
		p.Name, p.Filename = v.display, v.fileName
		p.Priority = v.priority
		p.RebootRequired = classicxml.Bool(v.reboot)
		p.SendNotification = classicxml.Bool(v.sendNotification)
		if v.requiredProcessor != "" {
			p.RequiredProcessor = v.requiredProcessor
		}
		if v.category != "" {
			p.Category = v.category
		}
		for dst, val := range map[*string]string{&p.Info: v.info, &p.Notes: v.notes, &p.OSRequirements: v.osReq} {
			if val != "" {
				*dst = val
			}
		}
	}
	if v.hashType != "" {
		p.HashType, p.HashValue = v.hashType, v.hashValue
	}
	newID, err := s.c.ClassicSave(ctx, id, p)
	if err != nil {
		priv, step := PrivUpdatePackages, "updating package record "+strconv.Itoa(id)
		if id == 0 {
			priv, step = PrivCreatePackages, "creating the package record"
		}
		return "", needs(err, priv, step)
	}
	return strconv.Itoa(newID), nil
}
