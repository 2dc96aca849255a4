package jcds2

import (
	"context"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// recordStore is where the package record lives: the Jamf Pro API
// (record_pro.go, 11.5 and later) or the Classic API (record_classic.go).
// The run decides what a record says (recordValues); a store finds,
// encodes and writes it, and decides nothing.
type recordStore interface {
	String() string // "Jamf Pro API", "Classic API": for the log
	// find looks the record up by file name (ignoring case), else by
	// display name; nil when there is none.
	find(ctx context.Context, name, display string, log Logger) (*record, error)
	// named returns those of names that some record has as its file name;
	// a store that cannot tell returns none.
	named(ctx context.Context, names []string) (map[string]bool, error)
	// category checks the category (by name) and returns what a write
	// sets (the id on the Jamf Pro API, the name on the Classic API).
	category(ctx context.Context, name string) (string, error)
	// write creates (cur nil) or updates the record and returns its id.
	// A conflict (another run's write) is the server's error; the caller
	// recognises it with jamf.IsDuplicate.
	write(ctx context.Context, cur *record, v recordValues) (string, error)
	// sha3 reports whether a record may carry a SHA3-512 hash; showsReady
	// whether the API shows the record's status and size (verify polls).
	sha3() bool
	showsReady() bool
}

func newRecordStore(c *jamf.Client, v jamf.ServerVersion) recordStore {
	if v.ModernPackages() {
		return proStore{c}
	}
	return classicStore{c}
}

// recordValues are what one record write sets.
type recordValues struct {
	metadata            bool // the fields below, down to the hash
	display, fileName   string
	priority            int
	reboot              bool
	category            string // by the store's category(): id or name
	info, notes, osReq  string // set only when given
	requiredProcessor   string // Classic only
	sendNotification    bool   // Classic only
	hashType, hashValue string // set when hashType != ""
	clearHash           bool   // the file is about to change
}

// writeRecord creates or updates the package record as a says. A
// conflict means another run got there first: look again.
func (r *run) writeRecord(ctx context.Context, w *world, a action) (facts, error) {
	cur := w.rec
	if a.create {
		cur = nil
	}
	id, err := r.store.write(ctx, cur, r.recordValues(a))
	if jamf.IsDuplicate(err) {
		if a.create {
			r.log.Logf(0, "Another run created the record for %s first: looking again", r.req.PkgName)
		}
		return facts{}, conflict{err}
	}
	if err != nil {
		return facts{}, err
	}
	r.res.PkgID = id
	via := ""
	if _, classic := r.store.(classicStore); classic {
		via = " through the Classic API"
	}
	switch {
	case a.create:
		r.log.Logf(0, "Created package record %s (%q)%s", id, r.req.DisplayName, via)
		return facts{createdID: id, wroteRecord: true}, nil
	case a.metadata:
		r.log.Logf(0, "Updated package record %s (%q)%s", id, r.req.DisplayName, via)
	case a.clearHash:
		r.log.Logf(1, "Cleared the hash of package record %s (%q) while its files change%s", id, r.req.DisplayName, via)
	default:
		r.log.Logf(0, "Corrected the hash of package record %s (%q)%s", id, r.req.DisplayName, via)
	}
	return facts{wroteRecord: true}, nil
}

// recordValues are the fields this run sets. Optional text fields are
// set only when the recipe gives them; the hash only when every place
// the record stands for is known to hold those bytes, and cleared while
// a file is being replaced, so the record never claims a hash its file
// does not have.
func (r *run) recordValues(a action) recordValues {
	req := r.req
	v := recordValues{metadata: a.metadata || a.create, clearHash: a.clearHash}
	if v.metadata {
		v.display, v.fileName, v.priority, v.reboot = req.DisplayName, req.PkgName, req.Priority, req.RebootRequired
		v.category = r.categoryID
		v.info, v.notes, v.osReq = req.Info, req.Notes, req.OSRequirements
		v.requiredProcessor, v.sendNotification = req.RequiredProcessor, req.SendNotification
	}
	if a.setHash && !a.clearHash {
		v.hashType, v.hashValue = r.hashFields()
	}
	return v
}

// hashFields picks what the record says of the file: MD5 when asked
// (Request.UseMD5), else SHA3-512 when known and the store takes it,
// else MD5.
func (r *run) hashFields() (typ, val string) {
	switch l := r.local; {
	case r.req.UseMD5 && l.MD5 != "":
		return "MD5", l.MD5
	case l.SHA3 != "" && r.store.sha3():
		return "SHA3_512", l.SHA3
	case l.MD5 != "":
		return "MD5", l.MD5
	}
	return "", ""
}

// conflict is a record write another run beat: the reconciler looks
// again; if it keeps happening, the server's own error is the run's.
type conflict struct{ err error }

func (c conflict) Error() string        { return c.err.Error() }
func (c conflict) Unwrap() error        { return c.err }
func (c conflict) Is(target error) bool { return target == errReobserve }
