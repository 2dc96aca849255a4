package jcds2

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// jcdsCloud is JCDS 2.0: the bytes go to S3 with credentials from
// /api/v1/jcds/files, and that listing is the proof of what JCDS holds
// (it hashes what it stored). A clashing upload becomes Name_1.pkg, so a
// stale file goes before the upload, and copies no record names go after.
type jcdsCloud struct{}

// observe: the file of our name in the listing the route was decided
// from, and the Name_N copies no record names.
func (jcdsCloud) observe(ctx context.Context, r *run, w *world) error {
	files := w.listing
	w.file = findFile(r.req.PkgName, files)
	var err error
	if w.dups, err = r.orphans(ctx, duplicatesOf(r.req.PkgName, files)); err != nil {
		return err
	}
	rec := w.rec
	if w.file == nil && len(w.dups) == 0 && (rec == nil || rec.hashValue == "") {
		return nil
	}
	if err := r.local.ensure(r.log, w.file != nil || len(w.dups) > 0, rec != nil && rec.claimsSHA3()); err != nil {
		return err
	}
	if w.file != nil && SameHash(w.file.MD5, r.local.MD5) && len(w.file.SHA3) == 128 && r.local.SHA3 == "" {
		// JCDS hashed these very bytes.
		r.local.learn(Hashes{SHA3: w.file.SHA3})
	}
	return nil
}

func (jcdsCloud) owns(k actionKind) bool {
	return k == actDeleteStale || k == actAwaitEarlier || k == actUpload || k == actRemoveDuplicate
}

func (jcdsCloud) apply(ctx context.Context, r *run, w *world, p *Plan, a action) (facts, error) {
	switch a.kind {
	case actAwaitEarlier:
		return r.awaitEarlier(ctx), nil
	case actDeleteStale:
		if err := r.c.DeleteJCDS(ctx, a.name); err != nil {
			return facts{}, fmt.Errorf("the stale file must go first, so that no duplicate is made: %w", err)
		}
		r.log.Logf(1, "Deleted the stale JCDS file %s", a.name)
		return facts{staleDeleted: a.name}, nil
	case actUpload:
		sent, err := r.uploadS3(ctx)
		var refused *credentialsRefused
		if errors.As(err, &refused) {
			// A fact for the route rule, which decides again after a
			// fresh look.
			return facts{refused: refused.refusal}, errReobserve
		}
		if err != nil {
			return facts{}, err
		}
		f := r.awaitFile(ctx, w, sent)
		f.uploadedNew = w.file == nil && !p.has(actDeleteStale)
		return f, nil
	case actRemoveDuplicate:
		return facts{}, r.c.DeleteJCDS(ctx, a.name)
	}
	return facts{}, nil
}

func (jcdsCloud) describe(a action, w *world) string {
	switch a.kind {
	case actDeleteStale:
		return "delete the stale JCDS file " + a.name
	case actAwaitEarlier:
		return "wait for an earlier upload of " + a.name + " to be processed"
	case actUpload:
		return fmt.Sprintf("upload %s (%s) to JCDS", a.name, HumanBytes(w.local.size))
	case actRemoveDuplicate:
		return "delete the duplicate JCDS file " + a.name
	}
	return ""
}

// foresee: after an upload, JCDS lists the local bytes; after a wait,
// the earlier upload did not come.
func (jcdsCloud) foresee(r *run, next *world, a action) error {
	switch a.kind {
	case actUpload:
		if r.local.MD5 == "" {
			// What JCDS would list is the local MD5: know it.
			if err := r.local.ensure(r.log, true, false); err != nil {
				return err
			}
		}
		next.file = &jamf.FileData{FileName: r.req.PkgName, Length: r.local.size, MD5: r.local.MD5, SHA3: r.local.SHA3}
		next.uploaded = true
	case actAwaitEarlier:
		next.waited = true
	}
	return nil
}

func (jcdsCloud) held(w *world) dest.Holding {
	if w.file == nil {
		return dest.Holding{}
	}
	return dest.Holding{Present: true, Size: w.file.Length, Hashes: Hashes{MD5: w.file.MD5, SHA3: w.file.SHA3}}
}

func (jcdsCloud) refreshes(*world) bool { return true }

// holdsNow lists JCDS again: what it holds under the name now (a wait
// that sees the record change asks: verify.go).
func (jcdsCloud) holdsNow(ctx context.Context, r *run) (dest.Holding, error) {
	files, err := r.c.ListJCDS(ctx)
	if err != nil {
		return dest.Holding{}, err
	}
	return jcdsCloud{}.held(&world{file: findFile(r.req.PkgName, files)}), nil
}

// proven: the listing this round observed has the local MD5.
func (jcdsCloud) proven(w *world) bool {
	return w.file != nil && SameHash(w.file.MD5, w.local.MD5)
}

// plan: the file of our name first (a stale one out, the upload), then,
// seen by the next look, the record with JCDS's hash and the Name_N
// copies out. An upload ends the round: JCDS's MD5 proves what arrived.
func (jcdsCloud) plan(w *world, req *Request, p *Plan) {
	name, rec, f := req.PkgName, w.rec, w.file
	if w.lostTo != "" && (f == nil || !SameHash(f.MD5, w.local.MD5)) {
		// This run lost the name to another run's upload: it converges on
		// the winner and never uploads again (Request.Replace replaces
		// what a run finds, not a concurrent run's result), whatever
		// the name holds by now; the next run decides.
		p.Lost, p.Diverged = true, true
		if f != nil && SameHash(f.MD5, w.lostTo) {
			p.note("%s on JCDS holds another run's upload (md5 %s), which won over this run's: leaving it, and its record, to that run", name, f.MD5)
		} else {
			p.note("Another run's upload of %s (md5 %s) won over this run's, and JCDS now holds %s under the name: leaving it; run again to decide", name, w.lostTo, heldMD5(f))
		}
		removeCopies(w, name, p)
		return
	}
	if w.pending && (f == nil || !SameHash(f.MD5, w.local.MD5)) {
		// This run uploaded; JCDS has not listed the bytes within the
		// verify timeout. Another upload would make a Name_1 copy: write
		// the record, claiming no hash until Jamf Pro has processed it.
		p.Pending = true
		p.note("JCDS has not yet listed %s with the uploaded hash; the record will claim no hash until Jamf Pro has processed it", name)
		if a, ok := recordWrite(w, req, true, false, p); ok {
			p.add(a)
		}
		return
	}
	upload := false
	switch {
	case f == nil:
		upload = true
		if !w.waited && rec != nil && !req.Replace && strings.EqualFold(rec.fileName, name) && (rec.hashValue == "" || rec.describes(w.local.Hashes)) {
			// Uploading at once would give JCDS a second file of this name
			// while it may still process the first (Name_1.pkg): wait a
			// while for it, then look again.
			p.note("Package record %s exists but JCDS lists no %s yet: waiting for an earlier upload to be processed, then uploading if it does not appear", rec.id, name)
			p.add(action{kind: actAwaitEarlier, name: name})
			p.Again = true
			return
		} else if rec != nil && w.waited {
			p.note("No earlier upload of %s appeared: uploading it", name)
		} else if rec != nil {
			p.note("Package record %s exists but JCDS holds no %s (an earlier run did not finish, or the file was removed): uploading it", rec.id, name)
		}
	case SameHash(f.MD5, w.local.MD5):
		if !w.uploaded {
			p.info("%s is already on JCDS with the same bytes (md5 %s): nothing to upload", name, w.local.MD5)
		}
	case f.MD5 == "" && f.Length == w.local.size && !req.Replace:
		p.Unhashed = true
		p.hint(NeedsReplace, "%s is on JCDS with the local package's size but JCDS computed no hash for it, as it does not for very large packages: not uploading it again, and not verified.", name)
	case w.uploaded:
		// Not the bytes this run sent, nor another run's it lost to: look
		// no further in this run; the next one decides.
		p.Diverged = true
		p.note("%s on JCDS holds other bytes than this run uploaded (md5 %s): leaving them; run again to decide", name, f.MD5)
		return
	case rec == nil:
		p.note("%s on JCDS holds other bytes and no package record names it: replacing it", name)
		p.add(action{kind: actDeleteStale, name: name})
		upload = true
	case req.Replace:
		p.hint(ReplaceAllowed, "%s on JCDS holds other bytes: replacing it", name)
		p.add(action{kind: actDeleteStale, name: name})
		upload = true
	default:
		p.Diverged = true
		p.hint(NeedsReplace, "%s on JCDS holds other bytes than the local package; not replacing them.", name)
	}
	if upload {
		// The upload ends the round: it waits until JCDS lists the bytes
		// (JCDS's MD5 is the proof of what arrived), and the record is
		// planned from what the next look sees.
		p.add(action{kind: actUpload, name: name})
		p.Again = true
		return
	}
	holdsOurs := f != nil && SameHash(f.MD5, w.local.MD5)
	if a, ok := recordWrite(w, req, w.uploaded, holdsOurs, p); ok {
		a.setHash = holdsOurs
		p.add(a)
	}
	removeCopies(w, name, p)
}

func heldMD5(f *jamf.FileData) string {
	if f == nil {
		return "no file"
	}
	return "md5 " + short(f.MD5)
}

// removeCopies plans the removal of Name_N copies that no record names
// (observe dropped the others) and that hold the bytes we manage, or
// those of the file there: leftovers of a name clash that no policy can
// reach; the converged state has none. A copy with other (or unknown)
// bytes is not ours and is never touched.
func removeCopies(w *world, name string, p *Plan) {
	for _, d := range w.dups {
		ours := SameHash(d.MD5, w.local.MD5) || w.file != nil && SameHash(d.MD5, w.file.MD5)
		if !ours {
			p.info("JCDS also holds %s, which no record names and which holds other bytes: left alone", d.FileName)
			continue
		}
		p.note("JCDS also holds %s, a copy of %s with the same bytes that no record names: removing it", d.FileName, name)
		p.add(action{kind: actRemoveDuplicate, name: d.FileName})
	}
}

// undoUpload leaves the server as it was after a record write failed:
// the file this run uploaded is deleted, but only if JCDS still lists
// our bytes under the name (never a file another run put there).
func (r *run) undoUpload(ctx context.Context, cause error) error {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	files, err := r.c.ListJCDS(cleanup)
	if err != nil {
		return fmt.Errorf("the file was uploaded but %w; run again to write the record", cause)
	}
	f := findFile(r.req.PkgName, files)
	if f == nil || !SameHash(f.MD5, r.local.MD5) {
		return fmt.Errorf("the file was uploaded but %w; run again to write the record", cause)
	}
	if err := r.c.DeleteJCDS(cleanup, r.req.PkgName); err != nil {
		return fmt.Errorf("the file was uploaded but %w; run again to write the record", cause)
	}
	r.learned.add(facts{uploadUndone: true})
	return fmt.Errorf("%w; the file this run uploaded was deleted again, so nothing changed", cause)
}
