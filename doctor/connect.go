package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func isHTTP(u string) bool { return strings.HasPrefix(u, "http://") }

// certWarnDays: a certificate this close to expiry fails runs soon.
const certWarnDays = 14

// checkTLS opens a TLS connection of its own, with verification on, so
// that the certificate is judged apart from the credentials: a run's
// client reports an untrusted certificate only as a failed token
// request. It returns false when nothing can reach the server.
func (d *doctor) checkTLS(ctx context.Context) bool {
	u, err := url.Parse(d.req.URL)
	if err != nil {
		d.rep.add(Fail, "tls", "cannot parse %s: %v", d.req.URL, err)
		return false
	}
	if u.Scheme == "http" {
		d.rep.add(OK, "tls", "not used: the URL is plain http (see url)")
		return true
	}
	hostPort := u.Host
	if u.Port() == "" {
		hostPort = net.JoinHostPort(u.Hostname(), "443")
	}
	// Behind a proxy, a direct connection proves nothing about the path
	// the requests take; the requests below then judge the certificate.
	if p, _ := http.ProxyFromEnvironment(&http.Request{URL: u}); p != nil {
		d.rep.add(OK, "tls", "requests go through the proxy %s, so the certificate is checked by the requests below", p.Redacted())
		return true
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 15 * time.Second}, Config: &tls.Config{ServerName: u.Hostname()}}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := dialer.DialContext(ctx, "tcp", hostPort)
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &cv) && d.req.Insecure:
		d.rep.add(Warn, "tls", "the certificate of %s does not verify (%v); insecure_mode turns verification off, so anyone on the path could read the credentials: fix the certificate, or trust its CA on this machine", hostPort, cv.Err)
		return true
	case errors.As(err, &cv):
		d.rep.add(Fail, "tls", "the certificate of %s does not verify (%v): fix the server's certificate, or trust its CA on this machine; --insecure (insecure_mode) turns verification off, only for a server you trust", hostPort, cv.Err)
		return false
	case err != nil:
		d.rep.add(Fail, "tls", "cannot open a TLS connection to %s (%v): check the URL, the network and any firewall", hostPort, err)
		return false
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	leaf := state.PeerCertificates[0]
	days := int(time.Until(leaf.NotAfter).Hours() / 24)
	what := fmt.Sprintf("%s, certificate for %s verifies (issued by %s, valid until %s)",
		tls.VersionName(state.Version), certName(leaf.Subject.CommonName, leaf.DNSNames, u.Hostname()),
		leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format("2006-01-02"))
	switch {
	case d.req.Insecure:
		d.rep.add(Warn, "tls", "%s, yet insecure_mode turns verification off for runs: drop --insecure (insecure_mode)", what)
	case days < certWarnDays:
		d.rep.add(Warn, "tls", "%s: it expires in %d days, and runs fail once it has", what, days)
	default:
		d.rep.add(OK, "tls", "%s", what)
	}
	return true
}

// certName is the name a certificate is for: its CN, else the SAN that
// matched, else the host asked for.
func certName(cn string, sans []string, host string) string {
	if cn != "" {
		return cn
	}
	for _, s := range sans {
		if strings.EqualFold(s, host) {
			return s
		}
	}
	return host
}
