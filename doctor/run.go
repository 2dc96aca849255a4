package doctor

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// doctor is one examination: what it was given, what it learned.
type doctor struct {
	env        processor.Env
	req        *jcds2.Request
	log        *processor.Logger
	recipeDirs []string
	rep        *Report

	c        *jamf.Client
	v        jamf.ServerVersion
	facts    facts
	privs    privileges
	decision decision
	route    jcds2.Route // the route a run would take; RouteAuto for none
	current  string      // the check in progress
}

// run performs the checks in order. A check that leaves nothing to build
// on (no URL, no connection, no token, no version) ends the examination:
// everything after it would only repeat its failure.
//
// The whole examination runs under ctx, which Run gives the --deadline:
// when it passes, the step in progress fails naming the request it was
// waiting for, no further step starts, and a "deadline" line says which
// step the deadline cut.
func (d *doctor) run(ctx context.Context) {
	for _, s := range d.env.SecretValues() {
		d.log.Secret(s)
	}
	if !d.checkInputs() || !d.step(ctx, "tls") || !d.checkTLS(ctx) {
		return
	}
	d.c = jamf.New(jamf.Options{URL: d.req.URL, Insecure: d.req.Insecure, Auth: d.req.Auth, MaxTries: d.req.MaxTries,
		RetryFloor: d.req.RetryFloor, Timeout: d.req.Timeout, Log: d.log})
	// The token this examination minted is invalidated at the end, as a
	// run's is; a given BEARER_TOKEN is left alone (on a short deadline
	// of its own when the examination's has passed).
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		d.c.Close(cctx)
	}()
	if !d.step(ctx, "auth") || !d.checkAuth(ctx) || !d.step(ctx, "version") || !d.checkVersion(ctx) {
		return
	}
	steps := []struct {
		name string
		f    func()
	}{
		{"clock", func() { d.checkClock(ctx) }},
		{"privileges", func() { d.learn(ctx) }},
		{"cloud", d.checkCloudDP},
		{"privileges", d.checkPrivileges},
		{"jcds", d.checkJCDSEndpoints},
		{"route", d.checkRoute},
		{"shares", func() { d.checkFileShares(ctx) }},
		{"categories", func() { d.checkCategories(ctx) }},
	}
	for _, s := range steps {
		if !d.step(ctx, s.name) {
			return
		}
		s.f()
	}
	d.step(ctx, "")
}

// step notes the check about to run, and reports false when the
// examination's deadline has passed (or it was interrupted).
func (d *doctor) step(ctx context.Context, name string) bool {
	if ctx.Err() != nil {
		return false
	}
	d.current = name
	return true
}

// checkInputs validates the inputs the way a run does, with the very
// functions a run uses. BuildRequest also wants a package, which doctor
// has not got: it is given a stand-in (this binary, a readable file),
// and of its result only the connection settings are used.
func (d *doctor) checkInputs() bool {
	env := d.env
	// A run logs every default at -vv; here that would drown the report.
	processor.ApplyDefaults(env, processor.NewLogger(io.Discard, 0))
	if err := processor.CheckRequired(env); err != nil {
		d.rep.add(Fail, "url", "%v", err)
		return false
	}
	raw, _ := processor.String(env, "JSS_URL")
	insecure, _ := processor.Bool(env, "insecure_mode")
	u, warning, err := processor.NormalizeURL(raw, insecure)
	if err != nil {
		d.rep.add(Fail, "url", "%v", err)
		return false
	}
	d.rep.URL = u
	self, err := os.Executable()
	if err != nil {
		d.rep.add(Fail, "inputs", "cannot find this program's own path (%v), which stands in for a package when the inputs are checked", err)
		return false
	}
	probe := make(processor.Env, len(env))
	for k, v := range env {
		probe[k] = v
	}
	probe["pkg_path"] = self
	delete(probe, "pkg_name")
	req, _, err := processor.BuildRequest(probe)
	if err != nil {
		d.rep.add(Fail, "inputs", "%v", err)
		return false
	}
	d.req = req
	// The pairs as HTTP Basic sends them, as a run registers them.
	if a := req.Auth; a.Username != "" && a.Password != "" {
		d.log.Secret(a.Username + ":" + a.Password)
	}
	if a := req.Auth; a.ClientID != "" && a.ClientSecret != "" {
		d.log.Secret(a.ClientID + ":" + a.ClientSecret)
	}
	switch {
	case warning != "":
		d.rep.add(Warn, "url", "%s: plain http to a host that is not this machine, allowed only because insecure_mode is set; credentials and tokens cross the network unencrypted", u)
	case isHTTP(u):
		d.rep.add(OK, "url", "%s: plain http, allowed because the host is this machine (a simulator or a local tunnel)", u)
	default:
		d.rep.add(OK, "url", "%s", u)
	}
	return true
}

// authName says which credentials a run uses, without their secret.
func authName(a jamf.Credentials) string {
	switch a.Method() {
	case jamf.AuthToken:
		return "BEARER_TOKEN (a token minted elsewhere)"
	case jamf.AuthClient:
		return fmt.Sprintf("API client %q (CLIENT_ID and CLIENT_SECRET)", a.ClientID)
	}
	return fmt.Sprintf("user %q (API_USERNAME and API_PASSWORD)", a.Username)
}
