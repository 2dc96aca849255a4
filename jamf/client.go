// Package jamf is the Jamf Pro client: authentication, retries and the
// Jamf Pro API and Classic API calls an upload needs. A call site is
// "send and decode"; what is retried, re-authenticated or refused is
// decided by the layers in transport.go, each doing one thing.
package jamf

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"sync/atomic"
	"time"
)

// Version is stamped at build time (-ldflags -X) and sent as User-Agent.
var Version = "dev"

// RetryBase is the first back-off between retries; tests shorten it.
var RetryBase = 500 * time.Millisecond

// Logger receives the client's messages. Secret registers a value that
// must never be printed.
type Logger interface {
	Logf(level int, format string, args ...any)
	Secret(value string)
}

// Credentials to mint (or use) a bearer token. Only one kind is used:
// a given token, then an API client, then user and password.
type Credentials struct {
	BearerToken  string
	ClientID     string
	ClientSecret string
	Username     string
	Password     string
}

// Options configure a Client.
type Options struct {
	URL        string // base URL, no trailing slash
	Insecure   bool   // skip TLS verification (insecure_mode)
	Auth       Credentials
	MaxTries   int           // tries per request for transient failures
	RetryFloor time.Duration // the least back-off between tries
	Timeout    time.Duration // per request, waiting for an answer
	// TokenCacheDir, when set, shares a minted token with later runs
	// (jcds2_reuse_auth) through a 0600 file there.
	TokenCacheDir string
	Log           Logger
}

// Client talks to one Jamf Pro server: one http.Client with a cookie jar
// (load-balancer stickiness), a User-Agent, timeouts, retries and a token.
type Client struct {
	base    string
	log     Logger
	timeout time.Duration
	tokens  *tokenSource
	// raw sends without a token (the auth calls); send adds the token.
	raw, send sender
	calls     atomic.Int64
	http      *http.Client
	// answered is set once the server has answered anything: from then
	// on, a refused connection is a restart, retried (see firstContact).
	answered atomic.Bool
}

// New builds a client for opts.URL.
func New(opts Options) *Client {
	jar, _ := cookiejar.New(nil)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: opts.Insecure} //nolint:gosec // only with insecure_mode, which warns
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	tr.ResponseHeaderTimeout = timeout
	tr.DialContext = (&net.Dialer{Timeout: min(timeout, 30*time.Second), KeepAlive: 30 * time.Second}).DialContext
	c := &Client{
		base:    opts.URL,
		log:     opts.Log,
		timeout: timeout,
		http:    &http.Client{Jar: jar, Transport: tr, CheckRedirect: refuseRedirect},
	}
	w := &wire{c: c}
	c.raw = &retrier{next: w, log: opts.Log, maxTries: max(opts.MaxTries, 1), floor: opts.RetryFloor}
	c.tokens = newTokenSource(c, opts.Auth, opts.TokenCacheDir)
	c.send = &retrier{next: &authorizer{next: w, tokens: c.tokens, log: opts.Log}, log: opts.Log, maxTries: max(opts.MaxTries, 1), floor: opts.RetryFloor}
	return c
}

// Calls is the number of HTTP requests sent so far.
func (c *Client) Calls() int { return int(c.calls.Load()) }

// URL is the server's base URL.
func (c *Client) URL() string { return c.base }

// Timeout is the per-request answer timeout.
func (c *Client) Timeout() time.Duration { return c.timeout }

// RedirectError is a redirect the client refused to follow: with
// credentials or a body on board, following it would hand them to
// wherever it points (and Go keeps the Authorization header on a
// same-host downgrade to http).
type RedirectError struct {
	Method, From, To string
	Downgrade        bool
}

func (e *RedirectError) Error() string {
	if e.Downgrade {
		return fmt.Sprintf("Jamf Pro redirected %s %s to plain http (%s); refused, credentials are never sent in clear text: use the https URL of the server", e.Method, e.From, e.To)
	}
	return fmt.Sprintf("Jamf Pro redirected %s %s to %s; not followed, since it would carry credentials elsewhere: the Jamf Pro URL is probably wrong (try the address it points to)", e.Method, e.From, e.To)
}

func refuseRedirect(req *http.Request, via []*http.Request) error {
	from := via[len(via)-1].URL
	return &RedirectError{Method: via[0].Method, From: from.Redacted(), To: req.URL.Redacted(),
		Downgrade: from.Scheme == "https" && req.URL.Scheme == "http"}
}
