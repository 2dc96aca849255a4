package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// The route rule is the engine's (jcds2.DecideRoute); doctor renders it
// in its own words: each case pins one branch, and the names doctor adds.
func TestDecideRoute(t *testing.T) {
	forbidden := &jamf.NoJCDSError{Status: 403, Privilege: jamf.PrivReadJCDS, Err: errors.New("403")}
	gone := &jamf.NoJCDSError{Status: 404, Err: errors.New("404")}
	absent := &jamf.NoJCDSError{Status: 500, Err: errors.New("500")}
	cdn403 := &jamf.APIError{Method: "GET", Path: "/api/v1/cloud-distribution-point", Status: 403}
	cdn500 := &jamf.APIError{Method: "GET", Path: "/api/v1/cloud-distribution-point", Status: 500}
	modern := facts{modern: true, version: "11.30.1", url: "https://x", cdn: "JAMF_CLOUD"}
	old := facts{version: "10.49.0", url: "https://x", cdn: "JAMF_CLOUD"}
	with := func(f facts, edit func(*facts)) facts { edit(&f); return f }
	cases := []struct {
		name  string
		f     facts
		route jcds2.Route
		fail  string // a part of the failure, when no route works
		why   string // a part of the reason
	}{
		{"JCDS answers", modern, jcds2.RouteJCDS2, "", "answers"},
		{"file shares, CLOUD_DP off, no cloud DP", with(modern, func(f *facts) { f.cdn, f.jcdsErr, f.elsewhere = "NONE", absent, "file shares with CLOUD_DP off" }), jcds2.RouteElsewhere, "", "file shares"},
		{"JCDS answers, old server", old, jcds2.RouteJCDS2, "", "answers"},
		{"JCDS privilege missing", with(modern, func(f *facts) { f.jcdsErr = forbidden }), jcds2.RoutePackages, "", `lacks the "Read Jamf Cloud`},
		{"Create JCDS missing", with(modern, func(f *facts) { f.createJCDS = lacking }), jcds2.RoutePackages, "", `lacks the "Create Jamf Cloud`},
		{"endpoints gone", with(modern, func(f *facts) { f.jcdsErr = gone }), jcds2.RoutePackages, "", "gone (404)"},
		{"no JCDS 2.0", with(modern, func(f *facts) { f.jcdsErr, f.cdn = absent, "AMAZON_S3" }), jcds2.RoutePackages, "", "not available"},
		{"no JCDS, cdnType NONE", with(modern, func(f *facts) { f.jcdsErr, f.cdn = absent, "NONE" }), jcds2.RouteAuto, "cdnType NONE", ""},
		{"no JCDS, cdn unreadable (403)", with(modern, func(f *facts) { f.jcdsErr, f.cdn, f.cdnErr = absent, "", cdn403 }), jcds2.RoutePackages, "", "not available"},
		{"no JCDS, cdn read fails", with(modern, func(f *facts) { f.jcdsErr, f.cdn, f.cdnErr = absent, "", cdn500 }), jcds2.RouteAuto, "reads the cloud distribution point first", ""},
		{"JCDS fault", with(modern, func(f *facts) { f.jcdsErr = errors.New("reset") }), jcds2.RouteAuto, "reset", ""},
		{"old, privilege missing", with(old, func(f *facts) { f.jcdsErr = forbidden }), jcds2.RouteAuto, "before Jamf Pro 11.5 the only route", ""},
		{"old, no JCDS", with(old, func(f *facts) { f.jcdsErr = absent }), jcds2.RouteAuto, "older than 11.5", ""},
		{"asked packages", with(modern, func(f *facts) { f.asked = jcds2.RoutePackages }), jcds2.RoutePackages, "", "pkg_api_mode"},
		{"asked packages, old", with(old, func(f *facts) { f.asked = jcds2.RoutePackages }), jcds2.RouteAuto, "no packages upload endpoint", ""},
		{"asked packages, NONE", with(modern, func(f *facts) { f.asked, f.cdn = jcds2.RoutePackages, "NONE" }), jcds2.RouteAuto, "cdnType NONE", ""},
		{"asked JCDS", with(modern, func(f *facts) { f.asked = jcds2.RouteJCDS2 }), jcds2.RouteJCDS2, "", "jcds2_mode"},
		// jcds2_mode prefers JCDS 2.0; where JCDS refuses, the packages
		// route, as JamfPackageUploader (which no longer reads it) does.
		{"asked JCDS, privilege missing", with(modern, func(f *facts) { f.asked, f.jcdsErr = jcds2.RouteJCDS2, forbidden }), jcds2.RoutePackages, "", `jcds2_mode prefers JCDS 2.0, but the account lacks the "Read`},
		{"asked JCDS, Create missing", with(modern, func(f *facts) { f.asked, f.createJCDS = jcds2.RouteJCDS2, lacking }), jcds2.RoutePackages, "", `lacks the "Create`},
		{"asked JCDS, endpoints gone", with(modern, func(f *facts) { f.asked, f.jcdsErr = jcds2.RouteJCDS2, gone }), jcds2.RoutePackages, "", "gone (404)"},
		{"asked JCDS, not Jamf Cloud", with(modern, func(f *facts) { f.asked, f.jcdsErr, f.cdn = jcds2.RouteJCDS2, absent, "AMAZON_S3" }), jcds2.RoutePackages, "", "AMAZON_S3, not Jamf Cloud"},
		{"asked JCDS, NONE", with(modern, func(f *facts) { f.asked, f.jcdsErr, f.cdn = jcds2.RouteJCDS2, gone, "NONE" }), jcds2.RouteAuto, "cdnType NONE", ""},
		{"asked JCDS, old, privilege missing", with(old, func(f *facts) { f.asked, f.jcdsErr = jcds2.RouteJCDS2, forbidden }), jcds2.RouteAuto, "before Jamf Pro 11.5 the only route", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := decideRoute(c.f)
			if d.route != c.route {
				t.Fatalf("route %v, want %v (%+v)", d.route, c.route, d)
			}
			if c.fail != "" && !strings.Contains(d.fail, c.fail) {
				t.Fatalf("fail %q, want it to contain %q", d.fail, c.fail)
			}
			if c.fail == "" && d.fail != "" {
				t.Fatalf("unexpected failure %q", d.fail)
			}
			if !strings.Contains(d.why, c.why) {
				t.Fatalf("why %q, want it to contain %q", d.why, c.why)
			}
		})
	}
}

// Doctor checks the privileges the engine's table lists for a route
// (jcds2.RouteNeeds), and has words for every step in it.
func TestRequirementsAreTheEnginesTable(t *testing.T) {
	for _, v := range []jamf.ServerVersion{{Raw: "11.4.0", Major: 11, Minor: 4}, {Raw: "11.30.1", Major: 11, Minor: 30, Patch: 1}} {
		d := &doctor{v: v}
		for _, route := range []jcds2.Route{jcds2.RouteJCDS2, jcds2.RoutePackages, jcds2.RouteElsewhere} {
			got := d.requirements(route)
			if len(got) == 0 || len(got) != len(jcds2.RouteNeeds(route, v)) {
				t.Errorf("%s on %s: %d requirements, the engine's table has %d", route, v.Raw, len(got), len(jcds2.RouteNeeds(route, v)))
			}
			for _, n := range got {
				if stepWords[n.Step] == "" {
					t.Errorf("%s: no words for the step that needs %q", route, n.Privilege)
				}
			}
		}
		// No route found: the route the server would otherwise have.
		want := jcds2.RouteJCDS2
		if v.ModernPackages() {
			want = jcds2.RoutePackages
		}
		if got := d.requirements(jcds2.RouteAuto); len(got) != len(jcds2.RouteNeeds(want, v)) || got[len(got)-1] != jcds2.RouteNeeds(want, v)[len(got)-1] {
			t.Errorf("no route on %s: want the %s route's privileges, got %+v", v.Raw, want, got)
		}
	}
}

// The JCDS privileges line names what the JCDS route needs beyond the
// packages route (from the engine's table), and which of them lack.
func TestJCDSPrivilegesLineComesFromTheTable(t *testing.T) {
	v := jamf.ServerVersion{Raw: "11.30.1", Major: 11, Minor: 30, Patch: 1}
	d := &doctor{v: v, rep: &Report{}, privs: privileges{listed: true, set: map[string]bool{jamf.PrivReadJCDS: true}}}
	d.jcdsPrivilegesLine()
	want := `the account lacks "Create Jamf Cloud Distribution Service Files", "Delete Jamf Cloud Distribution Service Files" (JCDS 2.0 needs "Read Jamf Cloud Distribution Service Files", "Create Jamf Cloud Distribution Service Files" and "Delete Jamf Cloud Distribution Service Files"), so runs take the packages route`
	if len(d.rep.Checks) != 1 || !strings.Contains(d.rep.Checks[0].Detail, want) {
		t.Fatalf("got %+v\nwant a line containing %s", d.rep.Checks, want)
	}
}
