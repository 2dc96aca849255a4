package jcds2

import (
	"errors"
	"fmt"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// The route rule, in one place: the engine decides with it each round,
// and `doctor` predicts a run with it. It is a pure function of what was
// learned of the server; DecideRoute never makes a request.
//
//   - The destinations alone asked for (file shares without the cloud
//     distribution point, a self-hosted bucket in its place): no cloud route.
//   - Packages asked for: the packages route; before 11.5 there is none,
//     and cdnType NONE refuses it.
//   - Auto, or JCDS 2.0 asked for (which is a preference, not a demand:
//     JamfPackageUploader treats its JCDS mode input as no longer functional and
//     uses the packages endpoint, so a drop-in must not fail where it
//     succeeds): JCDS 2.0 when its listing answers and no JCDS endpoint
//     has refused. A refusal (403 for a privilege, 404 for endpoints that
//     are gone, no JCDS 2.0 on this server, as JamfSync's probe tells)
//     switches to the packages route on 11.5+, unless cdnType is NONE;
//     before 11.5 it fails. Any other error is a fault and fails.
//   - The packages route reads cdnType first (jamfplatform provider, SDK
//     v2); a read refused with 403 or 404 is no reason to stop.

// RouteFacts are what the route depends on, as learned.
type RouteFacts struct {
	Asked   Route  // RouteAuto, RouteJCDS2 (preferred), RoutePackages or RouteElsewhere
	Modern  bool   // Jamf Pro 11.5+: the packages API and its upload
	Version string // for messages
	URL     string // for messages

	// JCDS is the answer of GET /api/v1/jcds/files: nil when it lists
	// files, a *jamf.NoJCDSError when JCDS refused, another error for a
	// fault. Not read when the packages route is asked for.
	JCDS error
	// Refused is a later refusal by a JCDS endpoint (POST for upload
	// credentials, the Create privilege): nil when none refused.
	Refused *jamf.NoJCDSError

	// CDNRead says cdnType was read (CDN, or CDNErr); the rule asks for
	// it (RouteDecision.NeedCDN) only on the way to the packages route.
	CDNRead bool
	CDN     string
	CDNErr  error
}

// RouteReason says why a route was chosen.
type RouteReason int

const (
	// ReasonJCDSAnswers: the JCDS listing answers (a Jamf Cloud
	// distribution point), and nothing refused.
	ReasonJCDSAnswers RouteReason = iota + 1
	// ReasonAsked: the packages route (or none) was asked for.
	ReasonAsked
	// ReasonJCDSRefused: JCDS refused (RouteDecision.Refusal says how):
	// the packages route instead.
	ReasonJCDSRefused
)

// RouteDecision is the route a run takes, or why none works.
type RouteDecision struct {
	Route  Route // the cloud route (cloud.go); RouteAuto with Err or NeedCDN
	Reason RouteReason
	// Refusal is what JCDS lacked, when the packages route replaces it.
	Refusal *jamf.NoJCDSError
	// NeedCDN: read cdnType into the facts and decide again.
	NeedCDN bool
	// Err: no route works. A *NoDistributionPointError, *NoRouteError,
	// *NoPackagesRouteError, or the fault that stopped the decision.
	Err error
}

// DecideRoute is the route rule (see above).
func DecideRoute(f RouteFacts) RouteDecision {
	if f.Asked == RouteElsewhere {
		// The destinations stand for the cloud distribution point: no
		// cloud route is needed, or looked at.
		return RouteDecision{Route: RouteElsewhere, Reason: ReasonAsked}
	}
	if f.Asked == RoutePackages {
		if !f.Modern {
			return RouteDecision{Err: &NoPackagesRouteError{Version: f.Version}}
		}
		return packagesRoute(f, RouteDecision{Route: RoutePackages, Reason: ReasonAsked})
	}
	refusal := f.Refused
	if refusal == nil && f.JCDS != nil && !errors.As(f.JCDS, &refusal) {
		return RouteDecision{Err: f.JCDS}
	}
	if refusal == nil {
		return RouteDecision{Route: RouteJCDS2, Reason: ReasonJCDSAnswers}
	}
	if !f.Modern {
		return RouteDecision{Err: &NoRouteError{Version: f.Version, Refusal: refusal}}
	}
	return packagesRoute(f, RouteDecision{Route: RoutePackages, Reason: ReasonJCDSRefused, Refusal: refusal})
}

// packagesRoute is d, if the cloud distribution point allows it.
func packagesRoute(f RouteFacts, d RouteDecision) RouteDecision {
	switch {
	case !f.CDNRead:
		return RouteDecision{NeedCDN: true}
	case f.CDNErr == nil && f.CDN == "NONE":
		return RouteDecision{Err: &NoDistributionPointError{URL: f.URL}}
	case f.CDNErr != nil && !jamf.IsStatus(f.CDNErr, 403, 404):
		return RouteDecision{Err: fmt.Errorf("the packages route reads the cloud distribution point first, and that failed: %w", f.CDNErr)}
	}
	return d
}

// Lacked says in words what JCDS lacked, for the line that announces
// the packages route: the missing privilege, the endpoints gone, or no
// JCDS 2.0 on this server (cdn, when read, names what it has instead).
func Lacked(refusal *jamf.NoJCDSError, cdn string) string {
	switch {
	case refusal.Privilege != "":
		return fmt.Sprintf("the account lacks the %q privilege", refusal.Privilege)
	case refusal.Status == 404:
		return "the JCDS endpoints are gone (404)"
	case cdn != "" && cdn != "JAMF_CLOUD" && cdn != "NONE":
		return fmt.Sprintf("the cloud distribution point is %s, not Jamf Cloud: JCDS 2.0 is not available here", cdn)
	}
	return "JCDS 2.0 is not available here"
}

// NoPackagesRouteError: the packages route was asked for on a server
// older than 11.5.
type NoPackagesRouteError struct{ Version string }

func (e *NoPackagesRouteError) Error() string {
	return fmt.Sprintf("Jamf Pro %s is older than 11.5 and has no packages upload endpoint: upgrade Jamf Pro, or let the route be chosen (JCDS 2.0)", e.Version)
}

// NoRouteError: before 11.5 JCDS 2.0 is the only route, and it refused.
type NoRouteError struct {
	Version string
	Refusal *jamf.NoJCDSError
}

func (e *NoRouteError) Error() string {
	if e.Refusal.Privilege != "" {
		return fmt.Sprintf("before Jamf Pro 11.5 the only route is JCDS 2.0, and the account lacks the %q privilege: give the API role the %q, %q and %q privileges",
			e.Refusal.Privilege, jamf.PrivReadJCDS, jamf.PrivCreateJCDS, jamf.PrivDeleteJCDS)
	}
	return fmt.Sprintf("Jamf Pro %s has no JCDS 2.0 and is older than 11.5, so it has no packages upload endpoint: upgrade Jamf Pro or upload by hand (%v)", e.Version, e.Refusal)
}

func (e *NoRouteError) Unwrap() error { return e.Refusal }
