package jcds2

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Version is stamped at build time (-ldflags -X).
var Version = "dev"

// RetryBase is the first back-off between retries; tests shorten it.
var RetryBase = 500 * time.Millisecond

// Client talks to one Jamf Pro server: one http.Client with a cookie jar
// (load-balancer stickiness), a User-Agent, timeouts, retries and a token.
type Client struct {
	base       string
	http       *http.Client
	log        Logger
	maxTries   int
	retryFloor time.Duration
	timeout    time.Duration
	tokens     *tokenSource
	calls      atomic.Int64
}

// NewClient builds a client for req's server.
func NewClient(req *Request, log Logger) *Client {
	jar, _ := cookiejar.New(nil)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: req.Insecure} //nolint:gosec // only with insecure_mode, which warns
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	tr.ResponseHeaderTimeout = timeout
	tr.DialContext = (&net.Dialer{Timeout: min(timeout, 30*time.Second), KeepAlive: 30 * time.Second}).DialContext
	c := &Client{
		base:       req.URL,
		http:       &http.Client{Jar: jar, Transport: tr},
		log:        log,
		maxTries:   max(req.MaxTries, 1),
		retryFloor: req.RetryFloor,
		timeout:    timeout,
	}
	c.tokens = newTokenSource(c, req.Auth)
	return c
}

// Calls is the number of HTTP requests sent so far.
func (c *Client) Calls() int { return int(c.calls.Load()) }

// APIError is a non-2xx answer from Jamf Pro.
type APIError struct {
	Method, Path string
	Status       int
	Code         string // Jamf's error code, e.g. DUPLICATE_FIELD
	Text         string // Jamf's description or the Classic <p>Error:</p> text
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Jamf Pro answered %d %s to %s %s", e.Status, http.StatusText(e.Status), e.Method, e.Path)
	if e.Code != "" || e.Text != "" {
		msg += ": " + strings.TrimSpace(strings.Join(nonEmpty(e.Code, e.Text), " "))
	}
	if hint := statusHint(e.Status); hint != "" {
		msg += " (" + hint + ")"
	}
	return msg
}

func statusHint(status int) string {
	switch status {
	case 401:
		return "check the credentials"
	case 403:
		return "the account lacks a privilege this step needs"
	}
	return ""
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// IsStatus reports whether err is an APIError with one of the statuses.
func IsStatus(err error, statuses ...int) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, s := range statuses {
		if ae.Status == s {
			return true
		}
	}
	return false
}

// call is one request to Jamf Pro.
type call struct {
	method, path string
	body         []byte
	contentType  string
	accept       string
	noAuth       bool
	basic        [2]string // user, password for Basic auth
	bearer       string    // a specific token (auth calls)
	// stream, when set, makes the body; it is called again for each try.
	stream  func() (io.ReadCloser, int64, error)
	timeout time.Duration
	// expect lists the accepted statuses; default: any 2xx.
	expect []int
	// tries overrides the client's max tries when not 0.
	tries int
}

// do sends c with retries on transport errors, 429 and 5xx gateway
// errors, re-authenticating once on 401. It returns the body of the
// accepted response.
func (c *Client) do(ctx context.Context, rq call) ([]byte, int, error) {
	reauthed := false
	var lastErr error
	for try := 1; ; try++ {
		body, status, retryAfter, err := c.once(ctx, rq)
		if err == nil {
			return body, status, nil
		}
		lastErr = err
		if status == http.StatusUnauthorized && !rq.noAuth && !reauthed {
			reauthed = true
			c.log.Logf(2, "%s %s: token refused, authenticating again", rq.method, rq.path)
			c.tokens.invalidateLocal()
			try-- // a re-auth does not use up a try
			continue
		}
		maxTries := c.maxTries
		if rq.tries > 0 {
			maxTries = rq.tries
		}
		if !retryable(status, err) || try >= maxTries || ctx.Err() != nil {
			if try > 1 && retryable(status, err) {
				return nil, status, fmt.Errorf("%w (gave up after %d tries)", lastErr, try)
			}
			return nil, status, lastErr
		}
		wait := c.backoff(try, retryAfter)
		c.log.Logf(1, "%s %s failed (%s); retrying in %s (try %d of %d)", rq.method, rq.path, shortErr(err), wait.Round(time.Millisecond), try+1, maxTries)
		select {
		case <-ctx.Done():
			return nil, status, fmt.Errorf("%s %s: %w", rq.method, rq.path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func shortErr(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("HTTP %d", ae.Status)
	}
	return err.Error()
}

// retryable: transport errors (status 0), 429 and gateway-ish 5xx.
func retryable(status int, err error) bool {
	if err == nil {
		return false
	}
	switch status {
	case 0:
		return !errors.Is(err, context.Canceled)
	case 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// statusLocal marks a failure before anything was sent: never retried.
const statusLocal = -1

func (c *Client) backoff(try int, retryAfter time.Duration) time.Duration {
	d := RetryBase << (try - 1)
	d = min(d, 30*time.Second)
	d = d/2 + rand.N(d/2+1) // jitter
	d = max(d, c.retryFloor, retryAfter)
	return min(d, 5*time.Minute)
}

func (c *Client) once(ctx context.Context, rq call) ([]byte, int, time.Duration, error) {
	// The token is minted (with its own tries and timeouts) before this
	// request's timeout starts.
	tok := ""
	if !rq.noAuth && rq.basic[0] == "" && rq.bearer == "" {
		var err error
		if tok, err = c.tokens.Token(ctx); err != nil {
			return nil, statusLocal, 0, err
		}
	}
	timeout := rq.timeout
	if timeout == 0 {
		timeout = c.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	var length int64 = -1
	if rq.stream != nil {
		rc, n, err := rq.stream()
		if err != nil {
			return nil, statusLocal, 0, fmt.Errorf("preparing the request body: %w", err)
		}
		defer rc.Close()
		body, length = rc, n
	} else if rq.body != nil {
		body, length = bytes.NewReader(rq.body), int64(len(rq.body))
	}
	hr, err := http.NewRequestWithContext(ctx, rq.method, c.base+rq.path, body)
	if err != nil {
		return nil, statusLocal, 0, fmt.Errorf("building %s %s: %w", rq.method, rq.path, err)
	}
	if length >= 0 {
		hr.ContentLength = length
	}
	hr.Header.Set("User-Agent", "jcds2-uploader/"+Version)
	accept := rq.accept
	if accept == "" {
		accept = "application/json"
	}
	hr.Header.Set("Accept", accept)
	if rq.contentType != "" {
		hr.Header.Set("Content-Type", rq.contentType)
	}
	switch {
	case rq.basic[0] != "":
		hr.SetBasicAuth(rq.basic[0], rq.basic[1])
	case rq.bearer != "":
		hr.Header.Set("Authorization", "Bearer "+rq.bearer)
	case !rq.noAuth:
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	c.calls.Add(1)
	start := time.Now()
	resp, err := c.http.Do(hr)
	if err != nil {
		var cv *tls.CertificateVerificationError
		if errors.As(err, &cv) {
			return nil, statusLocal, 0, fmt.Errorf("the TLS certificate of %s is not trusted (%v): fix the server's certificate, or set insecure_mode to True if you trust this server", c.base, cv.Err)
		}
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no answer within %s", timeout)
		}
		return nil, 0, 0, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	c.log.Logf(3, "%s %s -> %d (%d bytes, %s)", rq.method, rq.path, resp.StatusCode, len(data), time.Since(start).Round(time.Millisecond))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s %s: reading the answer: %w", rq.method, rq.path, err)
	}
	ok := resp.StatusCode/100 == 2
	if len(rq.expect) > 0 {
		ok = false
		for _, s := range rq.expect {
			ok = ok || s == resp.StatusCode
		}
	}
	if ok {
		return data, resp.StatusCode, 0, nil
	}
	apiErr := parseAPIError(rq.method, rq.path, resp.StatusCode, data)
	return nil, resp.StatusCode, retryAfter(resp.Header.Get("Retry-After")), apiErr
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(min(n, 300)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), 5*time.Minute)
	}
	return 0
}

var classicErr = regexp.MustCompile(`(?s)<p>Error:?(.*?)</p>`)
var classicH3 = regexp.MustCompile(`(?s)<h3>(.*?)</h3>`)

// parseAPIError reads Jamf's three error shapes: the Jamf Pro API JSON,
// the OAuth RFC 6749 JSON and the Classic API HTML status page.
func parseAPIError(method, path string, status int, data []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var j struct {
		Errors []struct {
			Code        string `json:"code"`
			Description string `json:"description"`
			Field       string `json:"field"`
		} `json:"errors"`
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(data, &j) == nil {
		if len(j.Errors) > 0 {
			e.Code = j.Errors[0].Code
			e.Text = j.Errors[0].Description
			if j.Errors[0].Field != "" {
				e.Text += " (field " + j.Errors[0].Field + ")"
			}
		} else if s, ok := j.Error.(string); ok {
			e.Code, e.Text = s, j.ErrorDescription
		}
		return e
	}
	if m := classicErr.FindSubmatch(data); m != nil {
		e.Text = cleanText(string(m[1]))
	} else if m := classicH3.FindSubmatch(data); m != nil {
		e.Text = cleanText(string(m[1]))
	}
	return e
}

func cleanText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// getJSON and sendJSON are the common shapes.
func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	data, _, err := c.do(ctx, call{method: "GET", path: path})
	if err != nil {
		return err
	}
	return decodeJSON(data, out, "GET "+path)
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
	}
	rq := call{method: method, path: path, body: body}
	if in != nil {
		rq.contentType = "application/json"
	}
	data, _, err := c.do(ctx, rq)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return decodeJSON(data, out, method+" "+path)
}

func decodeJSON(data []byte, out any, what string) error {
	if err := json.Unmarshal(data, out); err != nil {
		snippet := cleanText(string(data))
		if len(snippet) > 80 {
			snippet = snippet[:80] + "..."
		}
		return fmt.Errorf("%s: Jamf Pro's answer is not the JSON expected (%v; it began %q): check that JSS_URL points at Jamf Pro", what, err, snippet)
	}
	return nil
}
