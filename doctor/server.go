package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// shortToken: below this lifetime Jamf's own tools saw large uploads
// fail (jamf-upload #297 went from 60 to 600 seconds).
const shortToken = 5 * time.Minute

// maxSkew is the clock difference worth a warning: tokens carry expiry
// times and S3 refuses a signature more than 15 minutes off.
const maxSkew = 60 * time.Second

func (d *doctor) checkAuth(ctx context.Context) bool {
	a := d.req.Auth
	who := authName(a)
	if err := d.c.Authenticate(ctx); err != nil {
		d.rep.add(Fail, "auth", "%s: %v", who, err)
		return false
	}
	unused := ""
	if a.Method() != jamf.AuthPassword && a.Username != "" {
		unused = "; API_USERNAME is set too and not used"
	}
	if a.Method() == jamf.AuthToken && a.ClientID != "" {
		unused += "; CLIENT_ID is set too and not used"
	}
	switch a.Method() {
	case jamf.AuthToken:
		d.rep.add(OK, "auth", "%s: accepted by GET /api/v1/auth%s", who, unused)
	case jamf.AuthClient:
		d.rep.add(OK, "auth", "%s: token minted%s", who, unused)
	default:
		d.rep.add(OK, "auth", "%s: token minted; for automation Jamf recommends an API client (Settings > API roles and clients)", who)
	}
	d.checkToken()
	return true
}

func (d *doctor) checkToken() {
	if d.req.Auth.Method() == jamf.AuthToken {
		exp, ok := jwtExpiry(d.req.Auth.BearerToken)
		if !ok {
			d.rep.add(OK, "token", "lifetime unknown (the token carries no readable expiry); a given token cannot be renewed, so a run must end before it expires")
			return
		}
		left := time.Until(exp).Round(time.Second)
		st := OK
		if left < shortToken {
			st = Warn
		}
		d.rep.add(st, "token", "expires in %s (at %s, from the token itself); a given token cannot be renewed, so a run must end before then", left, exp.UTC().Format(time.RFC3339))
		return
	}
	life, _ := d.c.TokenLifetime()
	lifetime := time.Duration(life * float64(time.Second)).Round(time.Second)
	if lifetime < shortToken {
		fix := "raise the API client's Access Token Lifetime"
		if d.req.Auth.Method() == jamf.AuthPassword {
			fix = "raise the token expiration in Jamf Pro's settings"
		}
		d.rep.add(Warn, "token", "lifetime %s: a run renews it, but large uploads have failed with tokens this short (jamf-upload #297): %s to 10 minutes or more", lifetime, fix)
		return
	}
	d.rep.add(OK, "token", "lifetime %s, renewed by a run before it expires", lifetime)
}

// jwtExpiry reads the exp claim of a JWT without checking its signature:
// only to say when a given token runs out. It never shows the token.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Int64()
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

func (d *doctor) checkVersion(ctx context.Context) bool {
	v, err := d.c.Version(ctx)
	if err != nil {
		d.rep.add(Fail, "version", "%v", err)
		return false
	}
	d.v = v
	shown, _, _ := strings.Cut(v.Raw, "-") // the build stamp says nothing here
	switch {
	case !v.ModernPackages():
		d.rep.add(OK, "version", "Jamf Pro %s: before 11.5, so records go through the Classic API and files only to JCDS 2.0 (there is no packages upload endpoint)", shown)
	case v.AtLeast(11, 24):
		d.rep.add(OK, "version", "Jamf Pro %s: records through the Jamf Pro API; the JCDS endpoints are deprecated since 11.24", shown)
	default:
		d.rep.add(OK, "version", "Jamf Pro %s: records through the Jamf Pro API (11.5 and later)", shown)
	}
	return true
}

// checkClock compares the Date header of one answer with the local
// time halfway through the request.
func (d *doctor) checkClock(ctx context.Context) {
	const path = "/api/v1/jamf-pro-version"
	a, err := d.c.GetDated(ctx, path, "")
	if err != nil {
		d.rep.add(Warn, "clock", "not checked: %v", err)
		return
	}
	if a.Date.IsZero() {
		d.rep.add(Warn, "clock", "not checked: the answer to GET %s had no Date header", path)
		return
	}
	skew := clockSkew(a.Date, a.Local)
	if skew.Abs() <= maxSkew {
		d.rep.add(OK, "clock", "within %s of Jamf Pro's (the Date header of GET %s)", max(skew.Abs(), time.Second), path)
		return
	}
	way := "behind"
	if skew < 0 {
		way = "ahead of"
	}
	d.rep.add(Warn, "clock", "this machine's clock is %s %s Jamf Pro's (the Date header of GET %s): tokens and S3 request signatures depend on it, and S3 refuses signatures more than 15 minutes off; set the clock (macOS: sudo sntp -sS time.apple.com)", skew.Abs(), way, path)
}

// clockSkew is how far the server's clock is ahead of the local one.
// The Date header has whole seconds, cut down, so the server's time lay
// in [date, date+1s): its middle is the best guess. Rounded to seconds,
// since that is all the header can tell.
func clockSkew(date, local time.Time) time.Duration {
	return date.Add(500 * time.Millisecond).Sub(local).Round(time.Second)
}

// describeCapability is the upload-capability answer in words.
func describeCapability(c jamf.UploadCapability) string {
	return fmt.Sprintf("principal distribution technology %s, direct upload %s", yesNo(c.PrincipalDistributionTechnology), yesNo(c.DirectUploadCapable))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
