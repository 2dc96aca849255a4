package jcds2

import (
	"context"
	"fmt"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
)

// packagesCloud is the supported route since Jamf Pro 11.5: POST
// /api/v1/packages/{id}/upload. The server lists no files, so the
// record is the only view of what it holds: its hash, once Jamf Pro has
// processed the upload, is the proof (verify waits for it).
type packagesCloud struct{}

// observe: the record is the view; its hash is compared with the local
// one, which is made known for that.
func (packagesCloud) observe(_ context.Context, r *run, w *world) error {
	if w.rec == nil || w.rec.hashValue == "" {
		return nil
	}
	return r.local.ensure(r.log, false, w.rec.claimsSHA3())
}

func (packagesCloud) owns(k actionKind) bool { return k == actUpload }

func (packagesCloud) apply(ctx context.Context, r *run, w *world, _ *Plan, a action) (facts, error) {
	return r.uploadPackage(ctx, w, a.name)
}

func (packagesCloud) describe(a action, w *world) string {
	return fmt.Sprintf("upload %s (%s) through the packages API", a.name, HumanBytes(w.local.size))
}

// foresee: the plan never looks again after its own actions.
func (packagesCloud) foresee(*run, *world, action) error { return nil }

func (packagesCloud) held(*world) dest.Holding { return dest.Holding{} }
func (packagesCloud) refreshes(*world) bool    { return true }

// proven: nothing but the record (verify) proves what this route holds.
func (packagesCloud) proven(*world) bool { return false }

// plan: the record first (it must exist to upload to, and it claims no
// hash while its file changes), then the upload.
func (packagesCloud) plan(w *world, req *Request, p *Plan) {
	rec := w.rec
	// The file name the upload goes under: Jamf Pro refuses a multipart
	// file name other than the record's fileName (INVALID_FILE_NAME,
	// reference jamfpackageuploader-compat.md §3.8, jamf-upload #162;
	// JamfPackageUploader copies the file to the record's name first).
	// With skip_metadata the record is not written, so a record naming
	// our file in another letter case keeps its name and the upload
	// goes under it; the server matched it as ours ignoring case
	// (jamf-pro-api.md §13: assume no case-sensitive server).
	upName := req.PkgName
	if rec != nil && req.SkipMetadata && rec.fileName != req.PkgName && strings.EqualFold(rec.fileName, req.PkgName) {
		upName = rec.fileName
	}
	upload := false
	switch {
	case rec == nil:
		upload = true
	case rec.processedUnhashed() && !req.Replace && rec.fileName == upName:
		p.Unhashed = true
		p.hint(NeedsReplace, "Package record %s is READY (%s) but Jamf Pro computed no hash for its file, as it does not for very large packages: not uploading it again, and not verified.", rec.id, rec.size)
	case rec.hashValue == "":
		p.note("Package record %s has no file hash (its file is missing or was never processed): uploading %s", rec.id, upName)
		upload = true
	case rec.fileName != upName:
		p.note("Package record %s names the file %s, not %s: uploading %s", rec.id, rec.fileName, req.PkgName, req.PkgName)
		upload = true
	case rec.describes(w.local.Hashes):
		p.info("Package record %s already holds these bytes (%s): nothing to upload", rec.id, hashWord(rec.hashType))
	case req.Replace:
		p.hint(ReplaceAllowed, "Package record %s holds other bytes: replacing the file", rec.id)
		upload = true
	case !rec.describes(w.local.Hashes) && !knownHash(rec.hashType):
		p.Diverged = true
		p.hint(NeedsReplace, "Package record %s has a %s hash that cannot be compared.", rec.id, rec.hashType)
	case !rec.describes(w.local.Hashes):
		p.Diverged = true
		p.hint(NeedsReplace, "Package record %s holds other bytes than the local package; not replacing them.", rec.id)
	}
	if a, ok := recordWrite(w, req, upload, false, p); ok {
		a.kind, a.clearHash = actWriteRecord, upload && rec != nil
		p.add(a)
	}
	if upload {
		p.add(action{kind: actUpload, name: upName})
	}
}

func knownHash(t string) bool {
	t = strings.ToUpper(t)
	return t == "SHA3_512" || t == "MD5"
}
