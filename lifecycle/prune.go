package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/dest"
	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// Logger is what a prune or an audit reports to.
type Logger interface {
	Logf(level int, format string, args ...any)
}

// Pruner carries out a plan against one server.
type Pruner struct {
	Client *jamf.Client
	Log    Logger
	// Dests are the other distribution points the package was copied to
	// (file shares, the S3 point), the destinations an upload writes:
	// a delete removes the file from each of them, by the name the plan
	// lists, before the record goes.
	Dests  []dest.Destination
	DryRun bool
	// Progress, when set, is told how far reading the usage has got.
	Progress func(done, total int)
}

// Outcome is what a prune did.
type Outcome struct {
	Plan    *Plan
	Deleted []Decision // records deleted by this run (every file first)
}

// Prune reads every record and what uses each, makes the plan, prints it,
// and (unless DryRun, or a failsafe stops it) deletes what it lists.
//
// Converging like an upload: each package's files go first (the other
// distribution points, then the JCDS file), its record last. A run
// killed between the two leaves the record, so the next run plans the
// same package again (the newest are unchanged: only older ones were
// deleted) and finishes it; a record is never gone while its file stays.
// The run ends by reading back that no deleted record or file remains.
func (p *Pruner) Prune(ctx context.Context, o Options) (*Outcome, error) {
	v, err := p.Client.Version(ctx)
	if err != nil {
		return nil, err
	}
	var recs records = proRecords{p.Client}
	if !v.ModernPackages() {
		p.Log.Logf(0, "Jamf Pro %d.%d.%d predates the packages API (11.5): reading and deleting the records through the Classic API", v.Major, v.Minor, v.Patch)
		recs = classicRecords{p.Client}
	}
	// What installs a package first, then the records, keeping only
	// those the plan is about (the prefix MakePlan matches): memory
	// grows with one title's versions, not with the repository.
	usage, err := p.Client.PackageUsage(ctx, p.Progress)
	if err != nil {
		return nil, err
	}
	pkgs, err := recs.matching(ctx, o.Match)
	if err != nil {
		return nil, err
	}
	plan, err := MakePlan(pkgs, usage, o)
	if plan != nil {
		p.printPlan(plan, o)
	}
	if err != nil {
		return &Outcome{Plan: plan}, err
	}
	out := &Outcome{Plan: plan}
	if p.DryRun || len(plan.Delete) == 0 {
		return out, nil
	}
	jcds, err := p.jcdsFiles(ctx)
	if err != nil {
		return out, err
	}
	// A file another surviving record also names stays (a Name_N record
	// or a hand-made one may share it): asked of the server, just before
	// deleting, for the planned files only.
	going := map[string]bool{}
	names := make([]string, len(plan.Delete))
	for i, d := range plan.Delete {
		going[d.Package.ID] = true
		names[i] = d.Package.FileName
	}
	naming, err := recs.naming(ctx, names)
	if err != nil {
		return out, fmt.Errorf("looking for other records naming the files to delete: %w", err)
	}
	shared := map[string]bool{}
	for _, r := range naming {
		if !going[r.ID] {
			shared[strings.ToLower(r.FileName)] = true
		}
	}
	// A role without a delete privilege is found before anything is
	// deleted, not after a package's copies went and its record stayed.
	if jcds != nil {
		if err := p.Client.CanDeleteJCDS(ctx); err != nil {
			return out, err
		}
	}
	if err := recs.canDelete(ctx); err != nil {
		return out, err
	}
	for _, d := range plan.Delete {
		if err := p.deleteOne(ctx, recs, d.Package, jcds, shared[strings.ToLower(d.Package.FileName)]); err != nil {
			return out, err
		}
		out.Deleted = append(out.Deleted, d)
	}
	return out, p.verify(ctx, recs, out.Deleted, jcds != nil, shared)
}

// CheckServer refuses, for an audit, a server older than 11.5. An audit
// reads every record with its transfer state and size, which only the
// Jamf Pro API's packages endpoints (11.5) give, a page of 100 at a time;
// the Classic API has neither, and costs a request per record for a file
// name. A clear refusal beats a half-true report. (Prune, which reads
// one title's records, works through the Classic API there.)
func CheckServer(ctx context.Context, c *jamf.Client) error {
	v, err := c.Version(ctx)
	if err != nil {
		return err
	}
	if !v.ModernPackages() {
		return &OldServerError{Version: fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)}
	}
	return nil
}

// OldServerError: the server predates the packages API (11.5).
type OldServerError struct{ Version string }

func (e *OldServerError) Error() string {
	return fmt.Sprintf("Jamf Pro %s is older than 11.5: audit needs the Jamf Pro API's packages endpoints (11.5 and later) "+
		"for each record's transfer state and size; prune works on this server through the Classic API; upgrade Jamf Pro to audit", e.Version)
}

// jcdsFiles lists the JCDS files by name, or nil when the server has no
// JCDS 2.0 (its packages API deletes the file with the record).
func (p *Pruner) jcdsFiles(ctx context.Context) (map[string]bool, error) {
	files, err := p.Client.ListJCDS(ctx)
	var no *jamf.NoJCDSError
	if errors.As(err, &no) && no.Privilege != "" {
		p.Log.Logf(0, "The account lacks the %q privilege: deleting the records, which removes their JCDS files", no.Privilege)
		return nil, nil
	}
	if errors.As(err, &no) || jamf.IsStatus(err, 404) {
		p.Log.Logf(1, "No JCDS 2.0 file list on this server: deleting the records, which removes their files")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, f := range files {
		m[f.FileName] = true
	}
	return m, nil
}

func (p *Pruner) deleteOne(ctx context.Context, recs records, pkg jamf.Package, jcds map[string]bool, shared bool) error {
	if shared {
		p.Log.Logf(0, "Keeping the file %s: another record names it; deleting record %s only", pkg.FileName, pkg.ID)
	} else {
		for _, d := range p.Dests {
			if err := d.Delete(ctx, pkg.FileName); err != nil {
				return fmt.Errorf("deleting %s from %s: %w", pkg.FileName, d, err)
			}
			p.Log.Logf(1, "Deleted %s from %s", pkg.FileName, d)
		}
		if jcds[pkg.FileName] {
			if err := p.Client.DeleteJCDS(ctx, pkg.FileName); err != nil {
				return err
			}
		}
	}
	if err := recs.delete(ctx, pkg.ID); err != nil {
		return err
	}
	p.Log.Logf(0, "Deleted %s (id %s, %s)", pkg.PackageName, pkg.ID, pkg.FileName)
	return nil
}

// verify reads back that the deleted records, their JCDS files and
// their copies on the other distribution points are gone (a file another
// record names, shared, stayed on purpose).
func (p *Pruner) verify(ctx context.Context, recs records, deleted []Decision, jcds bool, shared map[string]bool) error {
	if len(deleted) == 0 {
		return nil
	}
	pkgs := make([]jamf.Package, len(deleted))
	names := make([]string, len(deleted))
	for i, d := range deleted {
		pkgs[i], names[i] = d.Package, d.Package.FileName
	}
	left, err := recs.left(ctx, pkgs)
	if err != nil {
		return fmt.Errorf("checking the deletions: %w", err)
	}
	if len(left) > 0 {
		return fmt.Errorf("record %s (%s) is still there after its delete", left[0].ID, left[0].FileName)
	}
	var files map[string]bool
	if jcds {
		if files, err = p.jcdsFiles(ctx); err != nil {
			return fmt.Errorf("checking the deletions: %w", err)
		}
	}
	for _, n := range names {
		if shared[strings.ToLower(n)] { // another record names it: the file stayed on purpose
			continue
		}
		if files[n] {
			return fmt.Errorf("the JCDS file %s is still there after its delete", n)
		}
		// Each destination is asked, as an upload proves its copies.
		for _, d := range p.Dests {
			h, err := d.Observe(ctx, n)
			if err != nil {
				return fmt.Errorf("checking the deletions: %s: %w", d, err)
			}
			if h.Present {
				return fmt.Errorf("%s still holds %s after its delete", d, n)
			}
		}
	}
	return nil
}

// printPlan says, before anything is deleted, what the plan does.
func (p *Pruner) printPlan(plan *Plan, o Options) {
	what := fmt.Sprintf("%q", o.Match)
	if o.Unused && o.Match == "" {
		what = "(every package)"
	}
	p.Log.Logf(0, "Plan for %s: %d matching, %d kept as newest, %d kept because in use, %d to delete",
		what, len(plan.Matched), len(plan.Keep), len(plan.InUse), len(plan.Delete))
	for _, d := range plan.Keep {
		p.Log.Logf(1, "  keep    %s (id %s): %s", d.Package.PackageName, d.Package.ID, d.Reason)
	}
	for _, d := range plan.InUse {
		p.Log.Logf(0, "  in use  %s (id %s): %s", d.Package.PackageName, d.Package.ID, d.Reason)
	}
	for _, d := range plan.Delete {
		p.Log.Logf(0, "  delete  %s (id %s, %s): %s", d.Package.PackageName, d.Package.ID, d.Package.FileName, d.Reason)
	}
}
