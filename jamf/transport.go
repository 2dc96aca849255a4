package jamf

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The transport is three layers, restic-style, each doing one thing:
//
//	retrier    retries what is transient (the wire says what is permanent)
//	authorizer adds the bearer token, re-authenticates once on 401
//	wire       one HTTP exchange: headers, timeout, redirects refused
//
// Auth calls (token, keep-alive, invalidate) go through retrier→wire.

// call is one request to Jamf Pro.
type call struct {
	method, path string
	body         []byte
	contentType  string
	accept       string
	basic        [2]string // user, password for Basic auth (token mint)
	bearer       string    // a specific token (auth calls)
	// stream, when set, makes the body; it is called again for each try.
	stream  func() (io.ReadCloser, int64, error)
	timeout time.Duration
	// expect lists the accepted statuses; default: any 2xx.
	expect []int
	// tries overrides the client's max tries when not 0.
	tries int
	// maxAnswer overrides the cap on a successful answer's size.
	maxAnswer int64
	// token is set by the authorizer.
	token string
}

// answer is an accepted response.
type answer struct {
	body   []byte
	status int
}

type sender interface {
	do(ctx context.Context, rq *call) (*answer, error)
}

// sendError is a failed exchange: the status (0 for transport errors),
// whether retrying can help, and Retry-After.
type sendError struct {
	err        error
	status     int
	permanent  bool
	retryAfter time.Duration
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

func statusOf(err error) (int, bool) {
	var se *sendError
	if errors.As(err, &se) {
		return se.status, se.permanent
	}
	return 0, true
}

// retrier retries transport errors, 429 and gateway-ish 5xx with
// exponential back-off and jitter, honouring Retry-After.
type retrier struct {
	next     sender
	log      Logger
	maxTries int
	floor    time.Duration
}

func (r *retrier) do(ctx context.Context, rq *call) (*answer, error) {
	maxTries := r.maxTries
	if rq.tries > 0 {
		maxTries = rq.tries
	}
	for try := 1; ; try++ {
		a, err := r.next.do(ctx, rq)
		if err == nil {
			return a, nil
		}
		var se *sendError
		if !errors.As(err, &se) || se.permanent || !retryable(se.status) || ctx.Err() != nil {
			return nil, err
		}
		if try >= maxTries {
			if try > 1 {
				return nil, &sendError{err: fmt.Errorf("%w (gave up after %d tries)", err, try), status: se.status, permanent: true}
			}
			return nil, err
		}
		wait := r.backoff(try, se.retryAfter)
		r.log.Logf(1, "%s %s failed (%s); retrying in %s (try %d of %d)", rq.method, pathOnly(rq.path), shortErr(err), wait.Round(time.Millisecond), try+1, maxTries)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s %s: %w", rq.method, pathOnly(rq.path), ctx.Err())
		case <-time.After(wait):
		}
	}
}

func retryable(status int) bool {
	switch status {
	case 0, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

func (r *retrier) backoff(try int, retryAfter time.Duration) time.Duration {
	d := min(RetryBase<<(try-1), 30*time.Second)
	d = d/2 + rand.N(d/2+1) // jitter
	d = max(d, r.floor, retryAfter)
	return min(d, 5*time.Minute)
}

func shortErr(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("HTTP %d", ae.Status)
	}
	return err.Error()
}

// authorizer adds a live token, minted before the request's own timeout
// starts, and authenticates again once when the token is refused.
type authorizer struct {
	next   sender
	tokens *tokenSource
	log    Logger
}

func (a *authorizer) do(ctx context.Context, rq *call) (*answer, error) {
	for reauthed := false; ; reauthed = true {
		tok, err := a.tokens.Token(ctx)
		if err != nil {
			return nil, &sendError{err: err, permanent: true}
		}
		rq.token = tok
		ans, err := a.next.do(ctx, rq)
		if st, _ := statusOf(err); st == http.StatusUnauthorized && !reauthed && !a.tokens.given() {
			a.log.Logf(2, "%s %s: token refused, authenticating again", rq.method, pathOnly(rq.path))
			a.tokens.invalidateLocal(tok)
			continue
		}
		return ans, err
	}
}

// wire is one HTTP exchange.
type wire struct{ c *Client }

func (w *wire) do(ctx context.Context, rq *call) (*answer, error) {
	c := w.c
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
			return nil, &sendError{err: fmt.Errorf("preparing the request body: %w", err), permanent: true}
		}
		defer rc.Close()
		body, length = rc, n
	} else if rq.body != nil {
		body, length = bytes.NewReader(rq.body), int64(len(rq.body))
	}
	hr, err := http.NewRequestWithContext(ctx, rq.method, c.base+rq.path, body)
	if err != nil {
		return nil, &sendError{err: fmt.Errorf("building %s %s: %w", rq.method, pathOnly(rq.path), err), permanent: true}
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
	case rq.token != "":
		hr.Header.Set("Authorization", "Bearer "+rq.token)
	}
	c.calls.Add(1)
	start := time.Now()
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, c.firstContact(transportError(ctx, rq, err, timeout, c.base))
	}
	c.answered.Store(true)
	defer resp.Body.Close()
	ok := accepted(resp.StatusCode, rq.expect)
	limit := int64(maxErrorAnswer)
	if ok {
		limit = cmp.Or(rq.maxAnswer, maxAnswer)
	}
	data, cut, err := readCapped(resp, limit)
	c.log.Logf(3, "%s %s -> %d (%d bytes, %s)", rq.method, pathOnly(rq.path), resp.StatusCode, len(data), time.Since(start).Round(time.Millisecond))
	if err != nil {
		return nil, &sendError{err: fmt.Errorf("%s %s: reading the answer: %w", rq.method, pathOnly(rq.path), transportCause(ctx, err, timeout))}
	}
	if ok && cut {
		// Not retried: a server that answers this much answers it again.
		return nil, &sendError{err: &TooLargeError{Method: rq.method, Path: pathOnly(rq.path), Limit: limit}, status: resp.StatusCode, permanent: true}
	}
	if ok {
		return &answer{body: data, status: resp.StatusCode}, nil
	}
	return nil, &sendError{err: parseAPIError(rq.method, pathOnly(rq.path), resp.StatusCode, data),
		status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
}

func transportError(ctx context.Context, rq *call, err error, timeout time.Duration, base string) error {
	var re *RedirectError
	if errors.As(err, &re) {
		return &sendError{err: re, permanent: true}
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return &sendError{err: &TLSError{URL: base, Err: cv.Err}, permanent: true}
	}
	// A host name that does not resolve, or a host that refuses
	// connections, will not answer differently a second later: say so at
	// once instead of after max_tries attempts. (A reset or a timeout is
	// retried: those come and go.)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return &sendError{err: &UnreachableError{URL: base, Reason: "the host name " + dnsErr.Name + " does not resolve", Err: err}, permanent: true}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &sendError{err: &UnreachableError{URL: base, Reason: "the host refuses connections (is the URL's port right, and the server up?)", Err: err}, permanent: true}
	}
	// The body's own failure (the package changed while it was sent)
	// is not the network's: sending it again cannot help.
	var perm interface{ Permanent() bool }
	if errors.As(err, &perm) && perm.Permanent() {
		return &sendError{err: err, permanent: true}
	}
	if errors.Is(err, context.Canceled) {
		return &sendError{err: fmt.Errorf("%s %s: %w", rq.method, pathOnly(rq.path), err), permanent: true}
	}
	return &sendError{err: fmt.Errorf("%s %s: %w", rq.method, pathOnly(rq.path), transportCause(ctx, err, timeout))}
}

// transportCause says which wait ended an exchange: the request's own
// timeout, or a deadline of the caller's (doctor's --deadline), which
// the caller names in its cause.
func transportCause(ctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() != context.DeadlineExceeded {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && cause != context.DeadlineExceeded {
		return cause
	}
	return fmt.Errorf("no answer within %s", timeout)
}

// Answers are read into memory, so their size is capped: an answer of
// Jamf Pro's is at most a few MiB (the longest are file and package
// lists); one larger is not Jamf Pro's. An error answer is read only as
// far as its message can reach.
const (
	maxAnswer      = 16 << 20
	maxErrorAnswer = 64 << 10
)

// readCapped reads at most limit bytes of the body and reports whether
// there was more. Its buffer grows by doubling up to limit and never
// past it (a bytes.Buffer doubles once more, to 2*limit, to read the one
// byte that tells a cut answer): a huge answer costs about 2*limit in
// allocations, a known-length one its length plus one byte.
func readCapped(resp *http.Response, limit int64) (data []byte, cut bool, err error) {
	if resp.ContentLength > limit {
		return nil, true, nil
	}
	size := int64(64 << 10)
	if resp.ContentLength >= 0 {
		size = resp.ContentLength + 1 // the +1 sees the end without growing
	}
	buf := make([]byte, 0, min(size, limit))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) == limit {
				var one [1]byte
				n, err := io.ReadFull(resp.Body, one[:])
				if n > 0 {
					return buf, true, nil
				}
				if err != nil && err != io.EOF {
					return nil, false, err
				}
				return buf, false, nil
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf))+512, limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// TooLargeError is a successful answer longer than the client reads.
type TooLargeError struct {
	Method, Path string
	Limit        int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s %s: the answer is longer than %d MiB, more than Jamf Pro ever sends; it was cut there and not used: check that the Jamf Pro URL points at Jamf Pro", e.Method, e.Path, e.Limit>>20)
}

// TLSError is a server certificate that does not verify.
type TLSError struct {
	URL string
	Err error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("the TLS certificate of %s is not trusted (%v): fix the server's certificate, or turn TLS verification off only if you trust this server", e.URL, e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

func accepted(status int, expect []int) bool {
	if len(expect) == 0 {
		return status/100 == 2
	}
	for _, s := range expect {
		if s == status {
			return true
		}
	}
	return false
}

// pathOnly drops the query from a path for messages: filters can hold
// names, never secrets, but the path alone reads better.
func pathOnly(p string) string {
	path, _, _ := strings.Cut(p, "?")
	return path
}

func parseRetryAfter(v string) time.Duration {
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

// UnreachableError is a server that cannot be reached at all: its name
// does not resolve, or it refuses connections.
type UnreachableError struct {
	URL, Reason string
	Err         error
	// Reached: the server had answered earlier in this run, so the run
	// may have changed something before it went away.
	Reached bool
}

func (e *UnreachableError) Error() string { return "cannot reach " + e.URL + ": " + e.Reason }
func (e *UnreachableError) Unwrap() error { return e.Err }

// firstContact keeps "cannot reach" final only while the server has
// never answered this client: a wrong URL fails at once. Once it has
// answered, a refused connection or a failed lookup is a restart or a
// network blip, retried like a reset.
func (c *Client) firstContact(err error) error {
	var se *sendError
	var ue *UnreachableError
	if c.answered.Load() && errors.As(err, &se) && errors.As(err, &ue) {
		se.permanent, ue.Reached = false, true
	}
	return err
}
