package jcds2

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/jcds2-uploader/jcds2-uploader/classicxml"
)

// metadataPlan decides whether the record is created or updated. Unlike
// JamfPackageUploader, replace_pkg_metadata alone never re-uploads.
func (r *run) metadataPlan(upload bool) (create, update bool) {
	if r.rec == nil {
		return true, false
	}
	if r.rec.id != "" {
		r.res.PkgID = r.rec.id
	}
	if r.req.SkipMetadata {
		if upload && r.rec.fileName != r.req.PkgName {
			r.log.Logf(0, "WARNING: record %s names file %s, not %s, and skip_metadata_upload is set: the record will not point at the upload", r.rec.id, r.rec.fileName, r.req.PkgName)
		}
		return false, false
	}
	return false, upload || r.req.ReplaceMetadata
}

// prepareMetadata decides the record write and resolves the category
// before anything is written, so a missing category fails early.
func (r *run) prepareMetadata(ctx context.Context, upload bool) (create, update bool, categoryID string, err error) {
	create, update = r.metadataPlan(upload)
	if create || update {
		categoryID, err = r.resolveCategory(ctx)
	}
	return create, update, categoryID, err
}

func (r *run) planMetadata(create, update bool) {
	switch {
	case create:
		r.plan = append(r.plan, fmt.Sprintf("create the package record %q for %s", r.req.DisplayName, r.req.PkgName))
	case update:
		r.plan = append(r.plan, fmt.Sprintf("update package record %s (%q)", r.rec.id, r.req.DisplayName))
	}
}

// hashFields picks what the record says about the file's hash: MD5 when
// asked (md5 input), else SHA3-512 when known, else MD5.
func (r *run) hashFields() (typ, val string) {
	switch {
	case r.hashFromServer:
		return "", ""
	case r.req.UseMD5 && r.local.MD5 != "":
		return "MD5", r.local.MD5
	case r.local.SHA3 != "" && r.modernAPI():
		return "SHA3_512", r.local.SHA3
	case r.local.MD5 != "":
		return "MD5", r.local.MD5
	}
	return "", ""
}

// writeMetadata creates or updates the record.
func (r *run) writeMetadata(ctx context.Context, create bool, categoryID string) error {
	if !r.modernAPI() {
		return r.writeClassic(ctx, create)
	}
	fields := r.recordFields(categoryID)
	if create {
		body := map[string]any{
			"fillUserTemplate": false, "osInstall": false, "suppressUpdates": false,
			"suppressFromDock": false, "suppressEula": false, "suppressRegistration": false,
			"info": "", "notes": "", "osRequirements": "", "categoryId": "-1",
		}
		for k, v := range fields {
			body[k] = v
		}
		id, err := r.c.CreatePackage(ctx, body)
		if err != nil {
			return err
		}
		r.res.PkgID = id
		r.rec = &record{id: id, fileName: r.req.PkgName, display: r.req.DisplayName}
		r.log.Logf(0, "Created package record %s (%q)", id, r.req.DisplayName)
	} else {
		// Merge onto the record as this run looked it up, so what an admin
		// set by hand survives.
		cur := make(map[string]any, len(r.rec.raw))
		for k, v := range r.rec.raw {
			cur[k] = v
		}
		delete(cur, "id")
		if r.hashFromServer {
			// The old hash describes the old file; Jamf Pro sets the new one.
			cur["hashType"], cur["hashValue"] = nil, nil
		}
		for k, v := range fields {
			cur[k] = v
		}
		if err := r.c.UpdatePackage(ctx, r.rec.id, cur); err != nil {
			return err
		}
		r.res.PkgID = r.rec.id
		r.log.Logf(0, "Updated package record %s (%q)", r.rec.id, r.req.DisplayName)
	}
	r.res.MetadataUpdated = true
	return nil
}

// recordFields are the fields we own on a Jamf Pro API record. Optional
// text fields are only set when the recipe gives them.
func (r *run) recordFields(categoryID string) map[string]any {
	req := r.req
	f := map[string]any{
		"packageName":    req.DisplayName,
		"fileName":       req.PkgName,
		"priority":       req.Priority,
		"rebootRequired": req.RebootRequired,
	}
	if req.Category != "" {
		f["categoryId"] = categoryID
	}
	for k, v := range map[string]string{"info": req.Info, "notes": req.Notes, "osRequirements": req.OSRequirements} {
		if v != "" {
			f[k] = v
		}
	}
	if typ, val := r.hashFields(); typ != "" {
		f["hashType"], f["hashValue"] = typ, val
	}
	if r.local.MD5 != "" && !r.hashFromServer {
		f["md5"] = r.local.MD5
	}
	// sha3512 joined the schema with 11.25; older servers may reject it.
	if r.local.SHA3 != "" && r.v.AtLeast(11, 25) && !r.hashFromServer {
		f["sha3512"] = r.local.SHA3
	}
	return f
}

func (r *run) writeClassic(ctx context.Context, create bool) error {
	req := r.req
	p := &classicxml.Package{Priority: 10, RequiredProcessor: "None"}
	id := 0
	if !create && r.rec.classic != nil {
		p = r.rec.classic
		id = p.ID
	}
	p.ID = 0
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
	if r.local.MD5 != "" {
		p.HashType, p.HashValue = "MD5", r.local.MD5
	}
	newID, err := r.c.ClassicSave(ctx, id, p)
	if err != nil {
		return err
	}
	r.res.PkgID = strconv.Itoa(newID)
	r.res.MetadataUpdated = true
	verb := "Updated"
	if create {
		verb = "Created"
	}
	r.log.Logf(0, "%s package record %d (%q) through the Classic API", verb, newID, req.DisplayName)
	return nil
}

func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the package: %w", err)
	}
	return f, nil
}

// HumanBytes writes a size in binary units, e.g. 24.0 MiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
