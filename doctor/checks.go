package doctor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

func (d *doctor) checkCloudDP() {
	f := d.facts
	capa := "upload capability not readable"
	if f.capErr == nil {
		capa = "upload capability: " + describeCapability(*f.capability)
	}
	switch {
	case f.cdnErr == nil && f.cdn == "NONE":
		st := Fail
		switch d.decision.route {
		case jcds2.RouteJCDS2:
			st = Warn // JCDS answers all the same, and a run never asks
		case jcds2.RouteElsewhere:
			st = OK // the package goes to the distribution points the inputs name
		}
		d.rep.add(st, "cloud distribution point", "cdnType NONE: there is no cloud distribution point to upload to; configure one in Jamf Pro (Settings > Server > Cloud distribution point)")
	case f.cdnErr == nil:
		d.rep.add(OK, "cloud distribution point", "cdnType %s; %s", f.cdn, capa)
	case jamf.IsStatus(f.cdnErr, 403):
		d.rep.add(Warn, "cloud distribution point", "not readable: the account lacks %q (a run goes on without it); %s", jcds2.PrivReadCloudDP, capa)
	default:
		d.rep.add(Warn, "cloud distribution point", "not readable (%v); %s", f.cdnErr, capa)
	}
}

// stepWords says what needs each privilege, in doctor's words (the
// privileges a route needs are jcds2.RouteNeeds: the engine's table).
var stepWords = map[jcds2.Step]string{
	jcds2.StepFindRecord:   "every run looks its package record up",
	jcds2.StepCreateRecord: "a new package's record is created",
	jcds2.StepUpdateRecord: "replacing a package, new metadata and hash corrections update the record (skip_metadata_upload avoids updates)",
	jcds2.StepUpload:       "the upload, POST /api/v1/packages/{id}/upload, needs Update and Read Packages",
	jcds2.StepFindCategory: "a recipe that sets pkg_category looks the category up",
	jcds2.StepRefresh:      "the inventory refresh after an upload needs it; without it Jamf Pro notices the file only at its next sync",
	jcds2.StepListJCDS:     "a run lists the JCDS files first",
	jcds2.StepCreateJCDS:   "an upload asks POST /api/v1/jcds/files for S3 credentials",
	jcds2.StepDeleteJCDS:   "replacing a file with other bytes deletes the old one first, as jcds2_remove_duplicates deletes duplicates",
}

// requirements are the privileges a run on route needs (jcds2.RouteNeeds).
// With no route found, those of the route the server would otherwise
// have: the packages route from 11.5, JCDS before.
func (d *doctor) requirements(route jcds2.Route) []jcds2.Need {
	if route == jcds2.RouteAuto {
		route = jcds2.RouteJCDS2
		if d.v.ModernPackages() {
			route = jcds2.RoutePackages
		}
	}
	return jcds2.RouteNeeds(route, d.v)
}

func (d *doctor) checkPrivileges() {
	route := d.decision.route
	for _, rq := range d.requirements(route) {
		d.privilegeLine(rq)
	}
	if route == jcds2.RoutePackages && d.req.Route != jcds2.RoutePackages && d.jcdsRefusedForPrivilege() {
		d.jcdsPrivilegesLine()
	}
}

func (d *doctor) privilegeLine(rq jcds2.Need) {
	name := "privilege " + rq.Privilege
	o, read := d.privs.reads[rq.Privilege]
	need := stepWords[rq.Step]
	switch d.privs.lookup(rq.Privilege) {
	case granted:
		src := "GET /api/v1/auth lists it"
		switch {
		case read && o.decided:
			src = o.via + " answers"
		case d.privs.all:
			src = "GET /api/v1/auth shows an administrator"
		}
		d.rep.add(OK, name, "%s", src)
	case lacking:
		src := "GET /api/v1/auth does not list it"
		if read && o.decided {
			src = o.via + " answered 403"
		}
		st := Warn
		if rq.Fatal {
			st = Fail
		}
		d.rep.add(st, name, "the account lacks it (%s); %s: add %q to the API role", src, need, rq.Privilege)
	default:
		if read && o.err != nil {
			d.rep.add(Warn, name, "not checked: %s failed (%v); %s", o.via, o.err, need)
			return
		}
		why := "GET /api/v1/auth lists no privileges for this account"
		if d.privs.authErr != nil {
			why = d.privs.authErr.Error()
		}
		d.rep.add(Warn, name, "not checked (needs a write): %s; %s", why, need)
	}
}

// jcdsRefusedForPrivilege: JCDS is there, but this account may not use it.
func (d *doctor) jcdsRefusedForPrivilege() bool {
	var nj *jamf.NoJCDSError
	return errors.As(d.facts.jcdsErr, &nj) && nj.Privilege != "" || d.facts.jcdsErr == nil && d.facts.createJCDS == lacking
}

// jcdsPrivilegesLine names the JCDS privileges an account lacks when
// that is why runs take the packages route: those the JCDS route needs
// beyond the packages route's (jcds2.RouteNeeds).
func (d *doctor) jcdsPrivilegesLine() {
	var all []string
	packages := jcds2.RouteNeeds(jcds2.RoutePackages, d.v)
	for _, n := range jcds2.RouteNeeds(jcds2.RouteJCDS2, d.v) {
		if !slices.ContainsFunc(packages, func(p jcds2.Need) bool { return p.Privilege == n.Privilege }) {
			all = append(all, n.Privilege)
		}
	}
	var missing []string
	for _, p := range all {
		if d.privs.lookup(p) == lacking {
			missing = append(missing, fmt.Sprintf("%q", p))
		}
	}
	lacks := "the JCDS privileges " + strings.Join(missing, ", ")
	if len(missing) < len(all) {
		var q []string
		for _, p := range all {
			q = append(q, fmt.Sprintf("%q", p))
		}
		last := len(q) - 1
		lacks = fmt.Sprintf("%s (JCDS 2.0 needs %s and %s)", strings.Join(missing, ", "), strings.Join(q[:last], ", "), q[last])
	}
	d.rep.add(Warn, "privileges JCDS", "the account lacks %s, so runs take the packages route (supported; for packages of many GB the JCDS route is faster): to use JCDS 2.0, add them to the API role", lacks)
}

func (d *doctor) checkJCDSEndpoints() {
	f := d.facts
	var nj *jamf.NoJCDSError
	const name = "JCDS endpoints"
	switch {
	case f.jcdsErr == nil && !f.modern:
		d.rep.add(OK, name, "GET /api/v1/jcds/files answers (%d files); before 11.5 runs need them: there is no other route", f.jcdsFiles)
	case f.jcdsErr == nil && d.v.AtLeast(11, 24):
		d.rep.add(OK, name, "GET /api/v1/jcds/files answers (%d files); deprecated since 11.24, no removal date: when they go, runs take the packages route by themselves", f.jcdsFiles)
	case f.jcdsErr == nil:
		d.rep.add(OK, name, "GET /api/v1/jcds/files answers (%d files)", f.jcdsFiles)
	case errors.As(f.jcdsErr, &nj) && nj.Privilege != "":
		d.rep.add(OK, name, "they answer (403 for this account, which lacks %q)", nj.Privilege)
	case nj != nil && nj.Status == 404:
		d.rep.add(Warn, name, "deprecated endpoints gone: GET /api/v1/jcds/files answers 404, so runs use the packages route%s", map[bool]string{true: "", false: ", which Jamf Pro before 11.5 does not have"}[f.modern])
	case nj != nil:
		d.rep.add(OK, name, "not in use: this server has no JCDS 2.0 (GET /api/v1/jcds/files answered %d; cdnType %s)", nj.Status, orUnknown(f.cdn))
	default:
		d.rep.add(Warn, name, "could not be checked: %v", f.jcdsErr)
	}
}

func (d *doctor) checkRoute() {
	dec := d.decision
	if dec.fail != "" {
		d.rep.add(Fail, "route", "%s", dec.fail)
		return
	}
	d.route = dec.route
	d.rep.add(OK, "route", "%s: %s", routeName(dec.route, d.v.ModernPackages()), dec.why)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
