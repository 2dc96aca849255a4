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

// decideRoute asks the engine's route rule (jcds2.DecideRoute) what a
// run would do with these facts and says it in doctor's words, naming
// the inputs. Doctor reads cdnType up front, so the rule never has to
// ask for it; a Create JCDS Files privilege that GET /api/v1/auth does
// not list is the refusal a run meets when it asks for upload
// credentials.
func decideRoute(f facts) decision {
	rf := jcds2.RouteFacts{Asked: f.asked, Modern: f.modern, Version: f.version, URL: f.url,
		JCDS: f.jcdsErr, CDNRead: true, CDN: f.cdn, CDNErr: f.cdnErr}
	if f.jcdsErr == nil && f.createJCDS == lacking {
		rf.Refused = &jamf.NoJCDSError{Status: 403, Privilege: jamf.PrivCreateJCDS}
	}
	if f.elsewhere != "" {
		rf.Asked = jcds2.RouteElsewhere
	}
	d := jcds2.DecideRoute(rf)
	var nr *jcds2.NoRouteError
	var np *jcds2.NoPackagesRouteError
	switch {
	case errors.As(d.Err, &np):
		return decision{fail: "pkg_api_mode asks for the packages route, but " + np.Error()}
	case errors.As(d.Err, &nr):
		return decision{fail: nr.Error()}
	case d.Err != nil && errors.Is(d.Err, f.jcdsErr):
		return decision{fail: fmt.Sprintf("a run would fail: %v", d.Err)}
	case d.Err != nil:
		return decision{fail: d.Err.Error()}
	}
	switch d.Reason {
	case jcds2.ReasonAsked:
		if d.Route == jcds2.RouteElsewhere {
			return decision{route: d.Route, why: f.elsewhere}
		}
		return decision{route: d.Route, why: "asked for (pkg_api_mode)"}
	case jcds2.ReasonJCDSRefused:
		why := jcds2.Lacked(d.Refusal, f.cdn)
		if f.asked == jcds2.RouteJCDS2 {
			why = "jcds2_mode prefers JCDS 2.0, but " + why + ": a run says so in one line and takes the packages route (as JamfPackageUploader does)"
		}
		return decision{route: d.Route, why: why}
	}
	why := "GET /api/v1/jcds/files answers (a Jamf Cloud distribution point)"
	if f.asked == jcds2.RouteJCDS2 {
		why = "asked for (jcds2_mode), and GET /api/v1/jcds/files answers"
	}
	return decision{route: d.Route, why: why}
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
