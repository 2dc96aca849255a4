package jcds2

import (
	"errors"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// The route rule's own table; doctor's route_test.go pins how doctor
// says each outcome.
func TestDecideRoute(t *testing.T) {
	forbidden := &jamf.NoJCDSError{Status: 403, Privilege: jamf.PrivReadJCDS}
	gone := &jamf.NoJCDSError{Status: 404}
	fault := errors.New("connection reset")
	cdn500 := &jamf.APIError{Status: 500}
	cdn403 := &jamf.APIError{Status: 403}
	type want struct {
		route   Route
		reason  RouteReason
		needCDN bool
		err     any // a pointer to the error type wanted, or nil
	}
	var nd *NoDistributionPointError
	var nr *NoRouteError
	var np *NoPackagesRouteError
	cells := []struct {
		name string
		f    RouteFacts
		want want
	}{
		{"auto, JCDS answers", RouteFacts{Modern: true}, want{RouteJCDS2, ReasonJCDSAnswers, false, nil}},
		{"jcds2 asked, JCDS answers", RouteFacts{Asked: RouteJCDS2, Modern: true}, want{RouteJCDS2, ReasonJCDSAnswers, false, nil}},
		{"auto, refused, cdn not read yet", RouteFacts{Modern: true, JCDS: forbidden}, want{RouteAuto, 0, true, nil}},
		{"auto, refused", RouteFacts{Modern: true, JCDS: forbidden, CDNRead: true, CDN: "JAMF_CLOUD"}, want{RoutePackages, ReasonJCDSRefused, false, nil}},
		{"jcds2 asked, gone", RouteFacts{Asked: RouteJCDS2, Modern: true, JCDS: gone, CDNRead: true, CDN: "JAMF_CLOUD"}, want{RoutePackages, ReasonJCDSRefused, false, nil}},
		{"jcds2 asked, upload refused later", RouteFacts{Asked: RouteJCDS2, Modern: true, Refused: forbidden, CDNRead: true}, want{RoutePackages, ReasonJCDSRefused, false, nil}},
		{"refused, cdn unreadable 403", RouteFacts{Modern: true, JCDS: gone, CDNRead: true, CDNErr: cdn403}, want{RoutePackages, ReasonJCDSRefused, false, nil}},
		{"refused, cdn read fails", RouteFacts{Modern: true, JCDS: gone, CDNRead: true, CDNErr: cdn500}, want{RouteAuto, 0, false, &cdn500}},
		{"refused, cdnType NONE", RouteFacts{Asked: RouteJCDS2, Modern: true, JCDS: gone, CDNRead: true, CDN: "NONE"}, want{RouteAuto, 0, false, &nd}},
		{"refused, old server", RouteFacts{Asked: RouteJCDS2, JCDS: forbidden}, want{RouteAuto, 0, false, &nr}},
		{"JCDS fault", RouteFacts{Modern: true, JCDS: fault}, want{RouteAuto, 0, false, &fault}},
		{"packages asked", RouteFacts{Asked: RoutePackages, Modern: true, CDNRead: true}, want{RoutePackages, ReasonAsked, false, nil}},
		{"packages asked, old", RouteFacts{Asked: RoutePackages}, want{RouteAuto, 0, false, &np}},
		// The destinations alone: no cloud route, whatever JCDS or cdnType say.
		{"destinations only", RouteFacts{Asked: RouteElsewhere, Modern: true}, want{RouteElsewhere, ReasonAsked, false, nil}},
		{"destinations only, old, no cloud", RouteFacts{Asked: RouteElsewhere, JCDS: gone, CDNRead: true, CDN: "NONE"}, want{RouteElsewhere, ReasonAsked, false, nil}},
	}
	for _, c := range cells {
		d := DecideRoute(c.f)
		if d.Err == nil && !d.NeedCDN && clouds[d.Route] == nil {
			// A route the rule picks that no file implements: the engine
			// would have nothing to plan or apply with.
			t.Errorf("%s: the rule picks %v, which has no cloud (cloud.go's clouds)", c.name, d.Route)
		}
		if d.Route != c.want.route || d.Reason != c.want.reason || d.NeedCDN != c.want.needCDN {
			t.Errorf("%s: %+v, want %+v", c.name, d, c.want)
		}
		switch target := c.want.err.(type) {
		case nil:
			if d.Err != nil {
				t.Errorf("%s: unexpected error %v", c.name, d.Err)
			}
		case *error:
			if !errors.Is(d.Err, *target) {
				t.Errorf("%s: error %v, want %v", c.name, d.Err, *target)
			}
		default:
			if !errors.As(d.Err, target) {
				t.Errorf("%s: error %v, want a %T", c.name, d.Err, target)
			}
		}
	}
	if got := Lacked(&jamf.NoJCDSError{Status: 500}, "AMAZON_S3"); got != "the cloud distribution point is AMAZON_S3, not Jamf Cloud: JCDS 2.0 is not available here" {
		t.Errorf("Lacked: %q", got)
	}
}
