package processor

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every input that becomes part of an HTTP request is checked here,
// before any request, so that what HTTP cannot carry (a line break in a
// header, a host name with a space) is one clear line naming the input
// rather than a Go error from deep inside the client:
//
//   - JSS_URL and the S3 endpoint (jcds2_s3_endpoint, AWS_ENDPOINT_URL_S3,
//     AWS_ENDPOINT_URL) become request URLs: checkServerURL.
//   - BEARER_TOKEN becomes the Authorization header: checkBearerToken.
//   - API_USERNAME and API_PASSWORD become a Basic Authorization header,
//     CLIENT_ID and CLIENT_SECRET a form body: checkCredential.
//   - pkg_name, pkg_display_name and pkg_category become query values and
//     the S3 key, escaped by the client: CheckFileName and
//     CheckDisplayName reject control characters and invalid UTF-8.

// maxCredentialLen bounds every credential: Jamf Pro's tokens are about a
// kilobyte, and servers refuse headers much beyond 8 KiB.
const maxCredentialLen = 8 << 10

// checkCredential rejects what no credential holds: invalid UTF-8, line
// breaks and other control characters, absurd lengths. A secret's value
// is never shown; a user name or client ID is.
func checkCredential(name, v string, secret bool) error {
	shown := ""
	if !secret {
		shown = " " + quoteShort(v)
	}
	switch {
	case len(v) > maxCredentialLen:
		return inputErr("%s is %d bytes long: a credential is at most %d bytes; check that the value is only the credential", name, len(v), maxCredentialLen)
	case !utf8.ValidString(v):
		return inputErr("%s is not valid UTF-8: give the credential as text", name)
	}
	if i := strings.IndexFunc(v, isControl); i >= 0 {
		return inputErr("%s%s contains %s: remove it (credentials cannot hold line breaks or other control characters; a copied value often ends in a line break)", name, shown, controlName(v[i:]))
	}
	return nil
}

// checkBasicUser: RFC 7617 separates the user name from the password by
// the first colon, so a user name cannot hold one.
func checkBasicUser(name, v string) error {
	if err := checkCredential(name, v, false); err != nil {
		return err
	}
	if strings.Contains(v, ":") {
		return inputErr("%s %s contains a colon, which HTTP Basic authentication cannot carry in a user name: use an API client (CLIENT_ID and CLIENT_SECRET) or another account", name, quoteShort(v))
	}
	return nil
}

// checkBearerToken: RFC 6750 b64token, which is what Jamf Pro issues (a
// JWT: base64url and dots).
func checkBearerToken(v string) error {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return inputErr(`BEARER_TOKEN starts with "Bearer ": give the token alone, without the word Bearer`)
	}
	if err := checkCredential("BEARER_TOKEN", v, true); err != nil {
		return err
	}
	body := strings.TrimRight(v, "=")
	for _, r := range body {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/", r)) {
			what := "a character a bearer token cannot hold"
			if unicode.IsSpace(r) {
				what = "white space"
			}
			return inputErr("BEARER_TOKEN contains %s: give the token alone (letters, digits and - . _ ~ + / only, = at the end), without quotes or spaces", what)
		}
	}
	if body == "" {
		return inputErr("BEARER_TOKEN holds only = signs: give the token Jamf Pro issued")
	}
	return nil
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// controlName says which control character starts s, without showing it.
func controlName(s string) string {
	switch s[0] {
	case '\n', '\r':
		return "a line break"
	case '\t':
		return "a tab"
	case 0:
		return "a NUL byte"
	}
	return "a control character"
}

// quoteShort quotes a non-secret value for a message, cut to 60 bytes.
func quoteShort(s string) string {
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

// checkServerURL checks a parsed http(s) URL that requests go to, for the
// input name (raw as given): no user info, query or fragment; a host name
// of letters, digits, dots, hyphens and underscores or an IP address; a
// port from 1 to 65535; a path without control characters; https, or
// plain http only to a loopback host, or anywhere with insecure_mode and
// a warning. It returns the URL as the client should use it.
func checkServerURL(name, raw string, u *url.URL, insecure bool, userHint string) (string, string, error) {
	q := strconv.Quote(raw)
	if u.User != nil {
		return "", "", inputErr("%s must not contain a user name or password: %s", name, userHint)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.Contains(raw, "#") {
		return "", "", inputErr("%s %s has a query or fragment: use just the server URL, e.g. https://yourorg.jamfcloud.com", name, q)
	}
	if u.Opaque != "" {
		return "", "", inputErr("%s %s is not a valid URL: use the form https://server.example.com", name, q)
	}
	host := u.Hostname()
	if msg := badHost(host); msg != "" {
		return "", "", inputErr("%s %s has an invalid host name (%s): use letters, digits, dots and hyphens (an international name in its xn-- form), or an IP address", name, q, msg)
	}
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") || port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", "", inputErr("%s %s has an invalid port: give a number from 1 to 65535, or none", name, q)
		}
	}
	if i := strings.IndexFunc(u.Path, isControl); i >= 0 || !utf8.ValidString(u.Path) {
		return "", "", inputErr("%s %s has a control character or invalid UTF-8 in its path: fix the URL", name, q)
	}
	warning := ""
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(host) {
			if !insecure {
				return "", "", inputErr("%s %s uses plain http: use https, or set insecure_mode to True if you really mean it", name, q)
			}
			warning = "WARNING: " + name + " uses plain http: credentials and tokens cross the network unencrypted (insecure_mode is set)."
		}
	default:
		return "", "", inputErr("%s %s has scheme %q: use https://", name, q, u.Scheme)
	}
	hostPort := u.Host
	if port == "" {
		hostPort = strings.TrimSuffix(u.Host, ":")
	}
	return u.Scheme + "://" + hostPort + strings.TrimRight(u.EscapedPath(), "/"), warning, nil
}

// badHost says what is wrong with a URL's host name, or "".
func badHost(host string) string {
	if host == "" {
		return "it is empty"
	}
	if strings.Contains(host, ":") { // an IPv6 literal, perhaps with a zone
		ip, _, _ := strings.Cut(host, "%")
		if net.ParseIP(ip) == nil {
			return "not an IP address"
		}
		return ""
	}
	if len(host) > 253 {
		return "longer than 253 bytes"
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return "an empty or over-long part between dots"
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				if r > unicode.MaxASCII {
					return "non-ASCII letters"
				}
				return "the character " + strconv.QuoteRune(r)
			}
		}
	}
	return ""
}

// s3EndpointSources are where an S3 endpoint override may come from, in
// the engine's order (jcds2.s3Endpoint): the first non-empty one is used.
var s3EndpointSources = []string{"jcds2_s3_endpoint", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}

// S3Endpoint finds and checks the S3 endpoint override the upload would
// use, under the same rule as JSS_URL: an override sends the upload and
// its temporary credentials elsewhere than AWS, so plain http is allowed
// only to a loopback host, or with insecure_mode (and a warning). It
// returns "" when there is no override.
func S3Endpoint(input string, insecure bool) (endpoint, warning string, err error) {
	for _, name := range s3EndpointSources {
		raw, fromEnv := input, false
		if name != "jcds2_s3_endpoint" {
			raw, fromEnv = os.Getenv(name), true
		}
		if raw == "" {
			continue
		}
		label, fix := name, "or leave it empty"
		if fromEnv {
			label, fix = name+" (from the environment)", "or unset it"
		}
		u, perr := url.Parse(raw)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "", inputErr("%s %s is not an http(s) URL: give e.g. http://127.0.0.1:9000, %s", label, strconv.Quote(raw), fix)
		}
		ep, warn, err := checkServerURL(label, raw, u, insecure, "the S3 endpoint takes no credentials")
		if err != nil {
			return "", "", err
		}
		if warn != "" {
			warn = "WARNING: the S3 endpoint " + label + " uses plain http: the upload and its credentials cross the network unencrypted (insecure_mode is set)."
		}
		return ep, warn, nil
	}
	return "", "", nil
}
