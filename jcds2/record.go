package jcds2

import (
	"context"
	"strconv"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// writeRecord creates or updates the package record as a says. A
// conflict on create means another run got there first: look again.
func (r *run) writeRecord(ctx context.Context, w *world, a action) error {
	if !r.v.ModernPackages() {
		return r.writeClassic(ctx, w, a)
	}
	fields := r.recordFields(a)
	if a.create {
		body := map[string]any{
			"fillUserTemplate": false, "osInstall": false, "suppressUpdates": false,
			"suppressFromDock": false, "suppressEula": false, "suppressRegistration": false,
			"info": "", "notes": "", "osRequirements": "", "categoryId": "-1",
		}
		for k, v := range fields {
			body[k] = v
		}
		id, err := r.c.CreatePackage(ctx, body)
		if jamf.IsDuplicate(err) {
			r.log.Logf(0, "Another run created the record for %s first: looking again", r.req.PkgName)
			return conflict{err}
		}
		if err != nil {
			return err
		}
		r.res.PkgID, r.res.MetadataUpdated = id, true
		r.createdID = id
		r.log.Logf(0, "Created package record %s (%q)", id, r.req.DisplayName)
		return nil
	}
	// Merge onto the record as looked up, so what an admin set by hand
	// survives; the client drops the server-managed fields.
	cur := make(map[string]any, len(w.rec.raw))
	for k, v := range w.rec.raw {
		cur[k] = v
	}
	for k, v := range fields {
		cur[k] = v
	}
	if err := r.c.UpdatePackage(ctx, w.rec.id, cur); err != nil {
		if jamf.IsDuplicate(err) {
			return conflict{err}
		}
		return err
	}
	r.res.PkgID, r.res.MetadataUpdated = w.rec.id, true
	what := "Updated package record %s (%q)"
	if !a.metadata {
		what = "Corrected the hash of package record %s (%q)"
	}
	r.log.Logf(0, what, w.rec.id, r.req.DisplayName)
	return nil
}

// recordFields are the fields this run sets. Optional text fields are
// set only when the recipe gives them; the hash only when the
// distribution point is known to hold those bytes, and cleared while
// the file is being replaced, so the record never claims a hash its
// file does not have.
func (r *run) recordFields(a action) map[string]any {
	req := r.req
	f := map[string]any{}
	if a.metadata {
		f["packageName"] = req.DisplayName
		f["fileName"] = req.PkgName
		f["priority"] = req.Priority
		f["rebootRequired"] = req.RebootRequired
		if req.Category != "" {
			f["categoryId"] = r.categoryID
		}
		for k, v := range map[string]string{"info": req.Info, "notes": req.Notes, "osRequirements": req.OSRequirements} {
			if v != "" {
				f[k] = v
			}
		}
	}
	switch typ, val := r.hashFields(); {
	case a.clearHash:
		f["hashType"], f["hashValue"] = nil, nil
	case a.setHash && typ != "":
		f["hashType"], f["hashValue"] = typ, val
	}
	return f
}

// hashFields picks what the record says of the file: MD5 when asked
// (Request.UseMD5), else SHA3-512 when known, else MD5.
func (r *run) hashFields() (typ, val string) {
	switch l := r.local; {
	case r.req.UseMD5 && l.MD5 != "":
		return "MD5", l.MD5
	case l.SHA3 != "" && r.v.ModernPackages():
		return "SHA3_512", l.SHA3
	case l.MD5 != "":
		return "MD5", l.MD5
	}
	return "", ""
}

func (r *run) writeClassic(ctx context.Context, w *world, a action) error {
	req := r.req
	p := &classicxml.Package{Priority: 10, RequiredProcessor: "None"}
	id := 0
	if !a.create && w.rec.classic != nil {
		p = w.rec.classic
		id = p.ID
	}
	p.ID = 0
	if a.metadata {
		p.Name, p.Filename = req.DisplayName, req.PkgName
		p.Priority = req.Priority
		p.RebootRequired = classicxml.Bool(req.RebootRequired)
		p.SendNotification = classicxml.Bool(req.SendNotification)
		if req.RequiredProcessor != "" {
			p.RequiredProcessor = req.RequiredProcessor
		}
		if req.Category != "" {
			p.Category = req.Category
		}
		for dst, v := range map[*string]string{&p.Info: req.Info, &p.Notes: req.Notes, &p.OSRequirements: req.OSRequirements} {
			if v != "" {
				*dst = v
			}
		}
	}
	if a.setHash && r.local.MD5 != "" {
		p.HashType, p.HashValue = "MD5", r.local.MD5
	}
	newID, err := r.c.ClassicSave(ctx, id, p)
	if jamf.IsDuplicate(err) {
		return conflict{err}
	}
	if err != nil {
		return err
	}
	r.res.PkgID = strconv.Itoa(newID)
	r.res.MetadataUpdated = true
	verb := "Updated"
	if a.create {
		verb = "Created"
		r.createdID = r.res.PkgID
	}
	r.log.Logf(0, "%s package record %d (%q) through the Classic API", verb, newID, req.DisplayName)
	return nil
}

// conflict is a record write another run beat: the reconciler looks
// again; if it keeps happening, the server's own error is the run's.
type conflict struct{ err error }

func (c conflict) Error() string        { return c.err.Error() }
func (c conflict) Unwrap() error        { return c.err }
func (c conflict) Is(target error) bool { return target == errReobserve }
