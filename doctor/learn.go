package doctor

import (
	"context"
	"errors"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// privReadDPs lists the file shares, which doctor checks and a run does
// not need (the privileges a run needs: jcds2.RouteNeeds).
const privReadDPs = "Read Distribution Points"

// Names that cannot exist, looked up only to learn whether the look-up
// is allowed: a 404 or an empty result means yes, a 403 no.
const (
	probePackage  = "jcds2-uploader-doctor-probe.pkg"
	probeCategory = "jcds2-uploader doctor probe"
)

// outcome is what a read taught about one privilege.
type outcome struct {
	decided bool   // has is known
	has     bool   // the account has the privilege
	via     string // the call that showed it
	err     error  // why it is not decided
}

func outcomeOf(via string, err error) outcome {
	switch {
	case err == nil:
		return outcome{decided: true, has: true, via: via}
	case jamf.IsStatus(err, 403):
		return outcome{decided: true, via: via}
	}
	return outcome{via: via, err: err}
}

// learn makes every read-only call the checks need, once.
func (d *doctor) learn(ctx context.Context) {
	d.privs = privileges{reads: map[string]outcome{}}
	r := d.privs.reads
	if d.v.ModernPackages() {
		_, err := d.c.FindPackages(ctx, probePackage, "")
		r[jcds2.PrivReadPackages] = outcomeOf("GET /api/v1/packages", err)
		_, err = d.c.CategoryID(ctx, probeCategory)
		r[jcds2.PrivReadCategories] = outcomeOf("GET /api/v1/categories", notFoundIsFine(err))
	} else {
		_, err := d.c.ClassicFindPackage(ctx, probePackage)
		r[jcds2.PrivReadPackages] = outcomeOf("GET /JSSResource/packages/name/…", err)
		err = d.c.ClassicCategoryExists(ctx, probeCategory)
		r[jcds2.PrivReadCategories] = outcomeOf("GET /JSSResource/categories/name/…", notFoundIsFine(err))
	}
	f := &d.facts
	f.cdn, f.cdnErr = d.c.CDNType(ctx)
	r[jcds2.PrivReadCloudDP] = outcomeOf("GET /api/v1/cloud-distribution-point", f.cdnErr)
	capa, err := d.c.UploadCapability(ctx)
	f.capability, f.capErr = &capa, err
	files, err := d.c.ListJCDS(ctx)
	f.jcdsFiles, f.jcdsErr = len(files), err
	var nj *jamf.NoJCDSError
	switch {
	case err == nil:
		r[jamf.PrivReadJCDS] = outcome{decided: true, has: true, via: "GET /api/v1/jcds/files"}
	case errors.As(err, &nj) && nj.Privilege != "":
		r[jamf.PrivReadJCDS] = outcome{decided: true, via: "GET /api/v1/jcds/files"}
	default:
		r[jamf.PrivReadJCDS] = outcome{via: "GET /api/v1/jcds/files", err: err}
	}
	details, err := d.c.AuthDetails(ctx)
	if err != nil {
		d.privs.authErr = err
	} else {
		d.privs.readListed(details)
	}
	f.asked, f.modern, f.version, f.url = d.req.Route, d.v.ModernPackages(), d.v.Raw, d.req.URL
	f.createJCDS = d.privs.lookup(jamf.PrivCreateJCDS)
	// The same rule as the processor's: with shares and CLOUD_DP off, or
	// with aws_cdp_mode, no cloud upload is made.
	if cfg, _, err := processor.DistributionPoints(d.env); err == nil {
		switch {
		case cfg.S3 != nil:
			f.elsewhere = "aws_cdp_mode: the package goes to s3://" + cfg.S3.Bucket + ", the record through the API"
		case len(cfg.Shares) > 0 && !cfg.CloudDP:
			f.elsewhere = "file shares with CLOUD_DP off: the package goes to the shares, the record through the API"
		}
	}
	d.decision = decideRoute(*f)
}

// notFoundIsFine: a probe name that does not exist was looked up, and
// being told so means the look-up was allowed.
func notFoundIsFine(err error) error {
	var nf *jamf.CategoryNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// privileges is what the account may do, as far as doctor could learn
// it without writing: from read calls (reads), and from GET /api/v1/auth
// where it lists them (Jamf Pro does for user accounts; for API clients
// it may list little or nothing).
type privileges struct {
	reads   map[string]outcome
	listed  bool // GET /api/v1/auth listed privileges
	all     bool // an administrator: every privilege
	set     map[string]bool
	authErr error
}

// readListed takes the privileges from an AuthorizationV1 answer: the
// account's, per site, and its groups'.
func (p *privileges) readListed(details map[string]any) {
	p.set = map[string]bool{}
	add := func(list any) {
		items, _ := list.([]any)
		for _, it := range items {
			if s, ok := it.(string); ok {
				p.set[renamed(s)] = true
			}
		}
	}
	account, _ := details["account"].(map[string]any)
	if account["privilegeSet"] == "ADMINISTRATOR" {
		p.all = true
	}
	bySite, _ := account["privilegesBySite"].(map[string]any)
	for _, list := range bySite {
		add(list)
	}
	groups, _ := details["accountGroups"].([]any)
	for _, g := range groups {
		group, _ := g.(map[string]any)
		if group["privilegeSet"] == "ADMINISTRATOR" {
			p.all = true
		}
		add(group["privileges"])
	}
	p.listed = p.all || len(p.set) > 0
}

// renamed maps the JCDS privilege names from before Jamf Pro 11.20
// ("Jamf Content Distribution Server Files") onto today's.
func renamed(name string) string {
	return strings.Replace(name, "Jamf Content Distribution Server Files", "Jamf Cloud Distribution Service Files", 1)
}

// knowledge is a tri-state answer about one privilege.
type knowledge int

const (
	unknown knowledge = iota
	granted
	lacking
)

// lookup answers from the reads first (what the server did), then from
// the listing.
func (p *privileges) lookup(name string) knowledge {
	if o, ok := p.reads[name]; ok && o.decided {
		if o.has {
			return granted
		}
		return lacking
	}
	switch {
	case p.all || p.set[name]:
		return granted
	case p.listed:
		return lacking
	}
	return unknown
}
