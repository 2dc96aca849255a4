package jcds2

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// Engine uploads packages. The zero value is not usable; call NewEngine.
type Engine struct {
	objects objectUploader
	// boundary, when set (tests), is called before every action apply
	// runs; an error stops the run there, as a crash would.
	boundary func() error
	// planned, when set (tests), is told each round's world and plan:
	// the crash test checks that its runs pass through every cell of
	// the plan table (crash_test.go).
	planned func(w *world, p *Plan)
}

// NewEngine returns the engine with the AWS SDK's multipart uploader.
func NewEngine() *Engine { return &Engine{objects: defaultObjectUploader} }

// run is one reconciliation: observe, plan, apply, verify, and again
// when the server changed under it (another run, a route that refused).
type run struct {
	e     *Engine
	req   *Request
	log   Logger
	c     *jamf.Client
	v     jamf.ServerVersion // from the first look (observe.go)
	local *localFile
	res   *Result
	store recordStore // where the record lives: Jamf Pro or Classic API; the first look sets it

	seen *seenListing // the JCDS listing the wait for an upload ended on, for the next look

	route     RouteFacts // what the route rule needs, as learned so far
	announced bool       // the switch to the packages route was logged

	categoryID  string
	catResolved bool

	// What the actions of this run learned and did, for the next look
	// and for what the engine takes back or reports (facts.go).
	learned facts
}

// maxRounds bounds the reconciler. A JCDS upload takes up to three
// rounds by design (wait for an earlier upload, upload, record); a round
// that meets another run's write, or a route that refused, looks again.
const maxRounds = 8

// Upload makes Jamf Pro hold the converged state for the local package
// (see plan.go), or says truthfully what it left.
func (e *Engine) Upload(ctx context.Context, req *Request, log Logger) (*Result, error) {
	start := time.Now()
	r := &run{e: e, req: req, log: log, res: &Result{PkgName: req.PkgName}}
	tokenDir := ""
	if req.ReuseToken {
		tokenDir = cacheDir(req.CacheDir)
	}
	r.c = jamf.New(jamf.Options{URL: req.URL, Insecure: req.Insecure, Auth: req.Auth, MaxTries: req.MaxTries,
		RetryFloor: req.RetryFloor, Timeout: req.Timeout, TokenCacheDir: tokenDir, Log: log})
	defer func() {
		r.c.Close(ctx)
		r.res.HTTPCalls = r.c.Calls()
		r.res.Elapsed = time.Since(start)
		log.Logf(1, "%d HTTP requests to Jamf Pro; %s in all, %s of it waiting for Jamf Pro", r.res.HTTPCalls, r.res.Elapsed.Round(time.Millisecond), r.res.Waited().Round(time.Millisecond))
	}()
	local, err := prepareLocal(ctx, req, log, openHashCache(req.CacheDir, log))
	if err != nil {
		return nil, err
	}
	r.local = local
	r.res.PkgPath = local.path

	// Authenticate first, so bad credentials are reported as such. The
	// version (and so the record store) comes with the first look
	// (observe.go), beside the other requests it needs none of.
	if err := r.c.Authenticate(ctx); err != nil {
		return nil, err
	}
	if err := r.reconcile(ctx); err != nil {
		return nil, r.explain(ctx, err)
	}
	r.res.SHA3, r.res.MD5 = r.local.SHA3, r.local.MD5
	return r.res, nil
}

func (r *run) reconcile(ctx context.Context) error {
	for round := 1; ; round++ {
		w, err := r.observe(ctx)
		if errors.Is(err, errReobserve) && round < maxRounds {
			continue
		}
		if err != nil {
			return err
		}
		if round == 1 || r.res.Route != w.route {
			r.log.Logf(1, "Upload route: %s (%s); record through the %s", w.route, w.why, r.store)
		}
		r.res.Route, r.res.PkgID = w.route, ""
		if w.rec != nil {
			r.res.PkgID = w.rec.id
		}
		p := plan(w, r.req)
		if r.e.planned != nil {
			r.e.planned(w, p)
		}
		for _, n := range p.Notes {
			r.log.Note(n)
		}
		if p.Refusal != nil {
			return p.Refusal // decided before anything is written, dry run or not
		}
		r.res.Outcome, r.res.NeedsReplace = p.outcome()
		if r.req.DryRun {
			r.res.Plan, r.res.Status = r.predict(w, p), "dry run"
			for _, line := range r.res.Plan {
				r.log.Logf(0, "Dry run: would %s", line)
			}
			if p.Empty() {
				r.log.Logf(0, "Dry run: nothing to do")
			}
			return nil
		}
		err = r.apply(ctx, w, p)
		if err == nil && p.Again && round < maxRounds {
			continue // the plan's last step needs a fresh look
		}
		if errors.Is(err, errReobserve) && round < maxRounds {
			r.log.Logf(1, "The server changed during this run (another run, or a route that refused): looking again")
			continue
		}
		if err != nil {
			return r.undo(ctx, err)
		}
		// The result is what the actions did; what this run put or wrote
		// did not stand where another run's bytes won.
		r.res.Uploaded = r.learned.sent() && !p.Lost
		r.res.MetadataUpdated = r.learned.wrote() && !p.Lost // a lost run's write does not stand
		r.res.Verified, r.res.Recalculated = r.learned.verified, r.learned.recalculated
		if r.learned.unhashed && r.res.Outcome == Converged {
			r.res.Outcome = Unhashed // the wait saw Jamf Pro compute no hash
		}
		r.res.Status = r.status(p)
		return nil
	}
}

// undo takes back what this run wrote when the step that needed it
// failed, so that a failed run leaves the server as it found it: the
// file a JCDS upload put where none was, when its record could not be
// written (after conflicts that kept happening, only while no record
// names the file); the record created for a packages upload that
// failed. A run stopped between steps (a crash) undoes nothing: the next
// run finishes the work instead.
func (r *run) undo(ctx context.Context, err error) error {
	var step *stepError
	if !errors.As(err, &step) {
		return err
	}
	var c conflict
	switch {
	case step.kind == actWriteRecord && r.learned.uploadedNew && errors.As(err, &c):
		if r.res.PkgID == "" {
			return r.undoUpload(ctx, c.err)
		}
	case step.kind == actWriteRecord && r.learned.uploadedNew:
		return r.undoUpload(ctx, err)
	case step.kind == actUpload && r.learned.createdID != "":
		return r.undoCreate(ctx, err)
	}
	return err
}

func (r *run) status(p *Plan) string {
	res := r.res
	verified := res.Verified || !p.has(actVerify) && !p.Pending
	unverified := "not yet verified"
	if r.learned.unhashed {
		unverified = "not verified (Jamf Pro computed no hash)"
	}
	switch {
	case res.Uploaded && verified:
		return "uploaded, verified"
	case res.Uploaded:
		return "uploaded, " + unverified
	case res.MetadataUpdated && verified:
		return "metadata updated"
	case res.MetadataUpdated:
		return "metadata updated, " + unverified
	case p.Lost:
		return "unchanged (another run's upload of other bytes won)"
	case p.Diverged:
		return "unchanged (the server holds other bytes)"
	case p.Unhashed:
		return "unchanged, not verified (Jamf Pro computed no hash)"
	case !verified:
		return "unchanged, not yet verified"
	}
	return "unchanged"
}

// explain turns an interrupt into what the run left.
func (r *run) explain(ctx context.Context, err error) error {
	var ie *InterruptedError
	if ctx.Err() == nil || errors.As(err, &ie) {
		return err
	}
	left := "nothing was changed in Jamf Pro"
	switch {
	case r.learned.sent() && !r.learned.wrote():
		left = "the file was uploaded but its record not yet written; run again to finish"
	case r.learned.sent() || r.learned.wrote():
		left = "the file and record were written but not yet verified; run again to finish"
	}
	return r.afterStaleDeleted(&InterruptedError{Step: "talking to Jamf Pro", Left: left})
}

// resolveCategory checks the category before anything is written.
func (r *run) resolveCategory(ctx context.Context) (string, error) {
	if r.catResolved {
		return r.categoryID, nil
	}
	var err error
	r.categoryID, err = r.store.category(ctx, r.req.Category)
	var nf *jamf.CategoryNotFoundError
	if errors.As(err, &nf) {
		return "", &CategoryError{Err: nf}
	}
	if err != nil {
		return "", err
	}
	r.catResolved = true
	return r.categoryID, nil
}

// SplitName splits a package file name into base and extension, keeping
// a bundle's double extension together: "App.pkg.zip" is "App" and
// ".pkg.zip". JCDS puts a clashing upload at base + "_1" + ext.
func SplitName(name string) (base, ext string) {
	ext = filepath.Ext(name)
	base = strings.TrimSuffix(name, ext)
	if strings.HasSuffix(strings.ToLower(base), ".pkg") {
		ext = base[len(base)-4:] + ext
		base = base[:len(base)-4]
	}
	return base, ext
}

// duplicatesOf finds Name_1.pkg-style names of name in a JCDS listing.
// A match is only a candidate: orphans drops the ones a record names.
func duplicatesOf(name string, files []jamf.FileData) []jamf.FileData {
	base, ext := SplitName(name)
	re := regexp.MustCompile("^" + regexp.QuoteMeta(base) + `_\d+` + regexp.QuoteMeta(ext) + "$")
	var out []jamf.FileData
	for _, f := range files {
		if re.MatchString(f.FileName) {
			out = append(out, f)
		}
	}
	return out
}

// wait sleeps for d unless ctx ends first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
