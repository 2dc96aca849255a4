package doctor

import (
	"errors"
	"fmt"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// facts are what the route depends on, as learned.
type facts struct {
	asked   jcds2.Route // the route the inputs force (jcds2_mode, pkg_api_mode), or auto
	modern  bool        // Jamf Pro 11.5+: the packages API and its upload
	version string
	url     string

	jcdsFiles  int
	jcdsErr    error     // from GET /api/v1/jcds/files; nil: JCDS answers
	createJCDS knowledge // Create JCDS Files, as GET /api/v1/auth lists it

	cdn        string // cdnType
	cdnErr     error
	capability *jamf.UploadCapability
	capErr     error

	// elsewhere: the inputs put the package on file shares with CLOUD_DP
	// off, or on a self-hosted S3 bucket (aws_cdp_mode): the run writes
	// the record only, and no cloud route is needed.
	elsewhere string
}

// decision is the route a run would take, or why none works.
type decision struct {
	route jcds2.Route // RouteJCDS2 or RoutePackages; RouteAuto when fail is set
	why   string
	fail  string
}

// decideRoute is the engine's route rule. jcds2 does not export it
// (chooseRoute, jcdsFailure and cdnAllowsUpload in jcds2/observe.go, and
// the switch on a refused upload in jcds2/upload_s3.go), and doctor must
// not change the engine, so the documented rule is implemented here once
// more; route_test.go pins each case. The rule:
//
//   - pkg_api_mode: the packages route; before 11.5 there is none, and
//     cdnType NONE refuses it.
//   - auto or jcds2_mode: JCDS 2.0 when GET /api/v1/jcds/files answers.
//     A JCDS refusal (403 for a privilege, 404 for endpoints that are
//     gone, no JCDS 2.0 at all) switches an auto run on 11.5+ to the
//     packages route, unless cdnType is NONE; anything else fails. A
//     refusal of the upload itself (POST /api/v1/jcds/files, Create JCDS
//     Files) switches the same way, so an account that lacks that
//     privilege, as GET /api/v1/auth lists them, gets the same outcome.
//   - On the packages route, a cdnType read that fails other than with
//     403 or 404 fails the run.
func decideRoute(f facts) decision {
	if f.elsewhere != "" {
		return decision{route: jcds2.RouteElsewhere, why: f.elsewhere}
	}
	if f.asked == jcds2.RoutePackages {
		if !f.modern {
			return decision{fail: fmt.Sprintf("pkg_api_mode asks for the packages route, but Jamf Pro %s is older than 11.5 and has no packages upload endpoint: upgrade Jamf Pro, or let the route be chosen (JCDS 2.0)", f.version)}
		}
		return packagesRoute(f, "asked for (pkg_api_mode)")
	}
	var nj *jamf.NoJCDSError
	refusal := f.jcdsErr
	switch {
	case f.jcdsErr == nil && f.createJCDS != lacking:
		why := "GET /api/v1/jcds/files answers (a Jamf Cloud distribution point)"
		if f.asked == jcds2.RouteJCDS2 {
			why = "asked for (jcds2_mode), and GET /api/v1/jcds/files answers"
		}
		return decision{route: jcds2.RouteJCDS2, why: why}
	case f.jcdsErr == nil:
		nj = &jamf.NoJCDSError{Status: 403, Privilege: jamf.PrivCreateJCDS}
		refusal = nj
	case !errors.As(f.jcdsErr, &nj):
		return decision{fail: fmt.Sprintf("a run would fail: %v", f.jcdsErr)}
	}
	if f.asked == jcds2.RouteAuto && f.modern {
		why := "JCDS 2.0 is not available here"
		switch {
		case nj.Privilege != "":
			why = fmt.Sprintf("the account lacks the %q privilege", nj.Privilege)
		case nj.Status == 404:
			why = "the JCDS endpoints are gone (404)"
		}
		return packagesRoute(f, why)
	}
	switch {
	case nj.Privilege != "" && f.asked == jcds2.RouteJCDS2:
		return decision{fail: fmt.Sprintf("jcds2_mode asks for JCDS 2.0, but the account lacks the %q privilege: give the API role the %q, %q and %q privileges, or leave the route to the uploader (it then uses the packages upload)",
			nj.Privilege, jamf.PrivReadJCDS, jamf.PrivCreateJCDS, jamf.PrivDeleteJCDS)}
	case nj.Privilege != "":
		return decision{fail: fmt.Sprintf("before Jamf Pro 11.5 the only route is JCDS 2.0, and the account lacks the %q privilege: give the API role the %q, %q and %q privileges",
			nj.Privilege, jamf.PrivReadJCDS, jamf.PrivCreateJCDS, jamf.PrivDeleteJCDS)}
	case f.asked == jcds2.RouteJCDS2:
		return decision{fail: fmt.Sprintf("jcds2_mode asks for JCDS 2.0, but %s has none (%v): set pkg_api_mode instead, or leave the route to the uploader", f.url, refusal)}
	}
	return decision{fail: fmt.Sprintf("Jamf Pro %s has no JCDS 2.0 and is older than 11.5, so it has no packages upload endpoint: upgrade Jamf Pro or upload by hand (%v)", f.version, refusal)}
}

// packagesRoute is the packages route, if the cloud distribution point
// allows it (the engine's cdnAllowsUpload).
func packagesRoute(f facts, why string) decision {
	switch {
	case f.cdnErr == nil && f.cdn == "NONE":
		return decision{fail: (&jcds2.NoDistributionPointError{URL: f.url}).Error()}
	case f.cdnErr != nil && !jamf.IsStatus(f.cdnErr, 403, 404):
		return decision{fail: fmt.Sprintf("the packages route reads the cloud distribution point first, and that failed: %v", f.cdnErr)}
	}
	return decision{route: jcds2.RoutePackages, why: why}
}

var shortRouteName = map[jcds2.Route]string{jcds2.RouteJCDS2: "JCDS 2.0", jcds2.RoutePackages: "packages API", jcds2.RouteElsewhere: "distribution points only"}

// routeName is a route in words.
func routeName(r jcds2.Route, modern bool) string {
	switch r {
	case jcds2.RouteJCDS2:
		rec := "records through the Jamf Pro API"
		if !modern {
			rec = "records through the Classic API"
		}
		return "JCDS 2.0 (S3 multipart upload; " + rec + ")"
	case jcds2.RoutePackages:
		return "packages API (POST /api/v1/packages/{id}/upload)"
	}
	return "none"
}
