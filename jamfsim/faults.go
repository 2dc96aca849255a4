package jamfsim

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// A fault makes the next N matching requests misbehave.
type fault struct {
	match      string // "METHOD /path" prefix for Jamf calls, or an S3 operation name
	status     int
	retryAfter string
	drop       bool
	delay      time.Duration
	left       int
	body       string // with contentType: answer this instead of an error
	ctype      string
	arrived    chan struct{} // closed when the first matching request arrives
	pass       bool          // let the request through untouched
	before     func()        // run before the request is handled (Before)
}

// Pass lets the next n matching requests through untouched, so that a
// fault added after it hits a later call.
func (s *Server) Pass(match string, n int) { s.addFault(&fault{match: match, pass: true, left: n}) }

// Before runs fn before handling the next n requests matching match,
// then lets each through: another client acting at that request, not at
// a time (fn may call PutFile, ReplacePackage ...).
func (s *Server) Before(match string, n int, fn func()) {
	s.addFault(&fault{match: match, pass: true, left: n, before: fn})
}

// FailBefore runs fn, then answers the next n requests matching match
// with status: another client's write landing just before this one,
// which then meets it (409: a conflict).
func (s *Server) FailBefore(match string, status, n int, fn func()) {
	s.addFault(&fault{match: match, status: status, left: n, before: fn})
}

// Fail makes the next n requests matching match answer status. match is
// "METHOD /api/path" (a prefix of method and path, query excluded) or an
// S3 operation such as "UploadPart" or "CreateMultipartUpload".
func (s *Server) Fail(match string, status, n int) {
	s.addFault(&fault{match: match, status: status, left: n})
}

// FailRetryAfter is Fail with a Retry-After header (seconds).
func (s *Server) FailRetryAfter(match string, status, n, seconds int) {
	s.addFault(&fault{match: match, status: status, left: n, retryAfter: fmt.Sprint(seconds)})
}

// Drop closes the connection of the next n matching requests unanswered.
func (s *Server) Drop(match string, n int) { s.addFault(&fault{match: match, drop: true, left: n}) }

// Delay holds the next n matching requests for d before handling them.
func (s *Server) Delay(match string, d time.Duration, n int) {
	s.addFault(&fault{match: match, delay: d, left: n})
}

// DelayNotify is Delay, and returns a channel closed when the first
// matching request arrives (so a test can act while it is held).
func (s *Server) DelayNotify(match string, d time.Duration, n int) <-chan struct{} {
	ch := make(chan struct{})
	s.addFault(&fault{match: match, delay: d, left: n, arrived: ch})
	return ch
}

// Respond makes the next n matching requests answer status with the
// given content type and body (HTML where JSON is expected, wrong types).
func (s *Server) Respond(match string, status int, contentType, body string, n int) {
	s.addFault(&fault{match: match, status: status, ctype: contentType, body: body, left: n})
}

// ClearFaults removes every pending fault and lets held requests go on.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	close(s.release)
	s.release = make(chan struct{})
}

func (s *Server) addFault(f *fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// applyFault handles r when a fault matches; it reports whether it did.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, op string) bool {
	key := r.Method + " " + r.URL.Path
	s.mu.Lock()
	var f *fault
	for _, c := range s.faults {
		if c.left > 0 && (op != "" && c.match == op || op == "" && strings.HasPrefix(key, c.match)) {
			c.left--
			f = c
			break
		}
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	if f.arrived != nil {
		s.mu.Lock()
		select {
		case <-f.arrived:
		default:
			close(f.arrived)
		}
		s.mu.Unlock()
	}
	if f.before != nil {
		f.before()
	}
	if f.pass {
		return false
	}
	if f.body != "" {
		w.Header().Set("Content-Type", f.ctype)
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
		return true
	}
	if f.delay > 0 {
		s.mu.Lock()
		release := s.release
		s.mu.Unlock()
		select {
		case <-time.After(f.delay):
		case <-release:
		case <-r.Context().Done():
			return true
		}
		return false
	}
	if f.drop {
		if hj, ok := unwrapHijacker(w); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	if op != "" {
		code := map[int]string{400: "InvalidRequest", 403: "AccessDenied", 404: "NoSuchUpload", 503: "SlowDown"}[f.status]
		if code == "" {
			code = "InternalError"
		}
		writeS3Error(w, f.status, code, "injected fault")
		return true
	}
	if strings.HasPrefix(r.URL.Path, "/JSSResource/") {
		writeClassicError(w, f.status, "injected fault")
		return true
	}
	writeAPIError(w, f.status, "INJECTED_FAULT", "injected fault")
	return true
}

func unwrapHijacker(w http.ResponseWriter) (http.Hijacker, bool) {
	for {
		if hj, ok := w.(http.Hijacker); ok {
			return hj, true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil, false
		}
		w = u.Unwrap()
	}
}
