package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// jamfClock is a reverse proxy in front of the simulator's Jamf Pro API
// that notes when each request arrived and when its answer was sent:
// the timeline the breakdown is cut from. Before forwarding a request it
// may call before (the bench reads the simulator's own view of what is
// due, before the request can change it).
type jamfClock struct {
	URL string
	srv *http.Server

	mu     sync.Mutex
	log    []stamp
	before func(r *http.Request)
}

// stamp is one request as the proxy saw it.
type stamp struct {
	Method, Path string // path without the query
	Query        string
	Start, End   time.Time
	Status       int
}

func (s stamp) is(method, pathPrefix string) bool {
	return s.Method == method && strings.HasPrefix(s.Path, pathPrefix)
}

func newJamfClock(target string) (*jamfClock, error) { return newClock(target, false) }

// newClock is a stamping reverse proxy to target; keepHost forwards the
// client's Host header unchanged (S3: the signature covers it).
func newClock(target string, keepHost bool) (*jamfClock, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &jamfClock{URL: "http://" + ln.Addr().String()}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		if keepHost {
			pr.Out.Host = pr.In.Host
		}
	}}
	c.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		c.mu.Lock()
		hook := c.before
		c.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		sw := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(sw, r)
		c.mu.Lock()
		c.log = append(c.log, stamp{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Start: start, End: time.Now(), Status: sw.status})
		c.mu.Unlock()
	}), ReadHeaderTimeout: time.Minute}
	go c.srv.Serve(ln)
	return c, nil
}

// reset forgets the log and sets the hook for the next run.
func (c *jamfClock) reset(before func(r *http.Request)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log, c.before = nil, before
}

// stamps returns the requests so far, in order of arrival.
func (c *jamfClock) stamps() []stamp {
	c.mu.Lock()
	out := append([]stamp(nil), c.log...)
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func (c *jamfClock) Close() error { return c.srv.Close() }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
