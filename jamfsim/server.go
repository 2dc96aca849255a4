// Package jamfsim is a Jamf Pro + JCDS 2.0 simulator serving real HTTP,
// like net/http/httptest for Jamf: the ground truth of the integration
// tests, the backend of `jcds2-uploader sim`, and the zero-setup demo.
// Field names, status codes and error bodies follow Jamf's OpenAPI
// schemas (11.23.2 and 11.30.1). Storage is a real S3 server: MinIO with
// STS-scoped credentials, or an embedded S3 for a run with nothing
// installed.
package jamfsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Config shapes the simulated server.
type Config struct {
	// Version is what /api/v1/jamf-pro-version answers, e.g. "11.30.1".
	// Before 11.5 the packages API is absent; from 11.24 the
	// cloud-distribution-point refresh exists.
	Version string
	// NoJCDS makes the JCDS endpoints answer as a server without JCDS 2.0
	// (500, which JamfSync takes to mean "no JCDS 2.0").
	NoJCDS bool
	// NoJCDSEndpoints is the day Jamf removes the deprecated /api/v1/jcds/*
	// endpoints: each answers 404 like any unknown path. The cloud
	// distribution point stays Jamf Cloud; the packages route still works.
	NoJCDSEndpoints bool
	// CDNType is the cloud distribution point's cdnType when NoJCDS is set
	// (default NONE: no cloud distribution point, so no uploads at all;
	// AMAZON_S3, AKAMAI or RACKSPACE_CLOUD_FILES accept packages-route
	// uploads). With JCDS it is always JAMF_CLOUD.
	// With AMAZON_S3 the bucket is the customer's own distribution point:
	// a refresh takes stock of the object named like a record's file at
	// its top level (aws_cdp_mode uploads there).
	CDNType string
	// Privileges maps a user name or API client id to the privileges its
	// role grants (see JamfPackageUploaderRole, JCDSUploaderRole). An
	// account without an entry has every privilege.
	Privileges map[string][]string
	// CaseInsensitiveNames makes RSQL == on packageName, fileName and
	// category names, Classic name look-ups, and the uniqueness of
	// packageName and fileName ignore letter case. Off by default.
	CaseInsensitiveNames bool
	// RefreshDelay is how long the first inventory refresh takes (about
	// 4 s on real servers; default 0 so tests stay fast). Later ones are
	// immediate.
	RefreshDelay time.Duration
	// RefreshRateLimit is how often a full inventory refresh (no
	// file-name) really runs (default 15 s, Jamf's documented limit). A
	// call sooner answers 204 and refreshes nothing.
	RefreshRateLimit time.Duration
	// RenewNewPath makes renew-credentials answer a new path and uuid,
	// while the renewed credentials still write only under the upload's
	// original path (JamfSync ignores path and keeps the original key).
	RenewNewPath bool
	// FileShares are the file share distribution points the Classic API
	// lists at /JSSResource/distributionpoints.
	FileShares []FileShare
	// Users (name -> password) and Clients (id -> secret) that may log in.
	Users   map[string]string
	Clients map[string]string
	// TokenLifetime of bearer tokens (default 30 minutes).
	TokenLifetime time.Duration
	// CredentialLifetime is the expiration reported for JCDS S3
	// credentials, and enforced by the S3 proxy (default 1 hour).
	CredentialLifetime time.Duration
	// IngestDelay is how long an uploaded object waits before JCDS lists it.
	IngestDelay time.Duration
	// UnhashedAbove is the size in bytes above which Jamf Cloud computes
	// no hash for a file (JCDS uploads and packages-route uploads): JCDS
	// lists it with its length and no md5 or sha3, and a package record
	// never gets a hash from Jamf for it. Negative: every file is
	// hashed. Default (0) DefaultUnhashedAbove.
	UnhashedAbove int64
	// Categories that exist from the start.
	Categories []string
	// S3 is the storage; nil starts an embedded S3.
	S3 Backend
	// Bucket and Region of the distribution point.
	Bucket, Region string
	// Addr to listen on (default 127.0.0.1:0).
	Addr string
	// TLS serves https with a self-signed certificate (for testing TLS
	// verification and insecure_mode).
	TLS bool
	// DirectS3 hands clients the backend's own endpoint instead of the
	// simulator's S3 proxy (faster; no S3 faults, log or expiry checks).
	DirectS3 bool
	// MaxInFlight, when set, answers a Jamf request arriving while that
	// many are being served with 429 and Retry-After: 1, like an edge
	// that limits a client (Jamf asks for at most 5 connections).
	MaxInFlight int
	// Wrap, when set, wraps the Jamf handler (tests: OpenAPI validation).
	Wrap func(http.Handler) http.Handler
}

// Server is a running simulator.
type Server struct {
	URL string
	cfg Config
	srv *http.Server
	ln  net.Listener
	s3  Backend

	mu         sync.Mutex
	tokens     map[string]*token
	sessions   map[string]*session // by token, and by account: the latest JCDS upload session
	creds      map[string]*minted  // by access key id
	packages   map[int]*Package
	nextPkgID  int
	categories map[int]string
	nextCatID  int
	files      map[string]*StoredFile // the JCDS distribution store
	ingested   map[string]bool        // object keys already in files
	pendingUp  []*pendingUpload       // packages-route uploads being processed
	reqLog     []LogEntry
	s3Log      []LogEntry
	faults     []*fault
	issued     []string // every token and S3 secret handed out, for leak tests
	ingestTime time.Duration
	release    chan struct{} // closed to let held (delayed) requests go on
	beforeList func()        // BeforeJCDSList

	privs        map[string]map[string]bool // by account; absent = every privilege
	usage        usage                      // policies, patch titles, PreStages
	inFlight     int                        // Jamf requests being served
	peakInFlight int                        // the most at once so far
	refreshes    int                        // inventory refreshes so far
	lastFullScan time.Time                  // last full refresh that ran
}

// IngestTime is how long the simulated JCDS has spent reading and hashing
// uploads so far: server-side time a client waits for when it verifies.
func (s *Server) IngestTime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ingestTime
}

// New starts a simulator. Close it when done.
func New(cfg Config) (*Server, error) {
	if cfg.Version == "" {
		cfg.Version = "11.30.1"
	}
	if cfg.Users == nil && cfg.Clients == nil {
		cfg.Users = map[string]string{DefaultUser: DefaultPassword}
		cfg.Clients = map[string]string{DefaultClientID: DefaultClientSecret}
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = 30 * time.Minute
	}
	if cfg.CredentialLifetime == 0 {
		cfg.CredentialLifetime = time.Hour
	}
	if cfg.Categories == nil {
		cfg.Categories = []string{"Applications", "Productivity", "Testing"}
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "jcds-sim"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.RefreshRateLimit == 0 {
		cfg.RefreshRateLimit = 15 * time.Second
	}
	if cfg.CDNType == "" {
		cfg.CDNType = "NONE"
	}
	if cfg.UnhashedAbove == 0 {
		cfg.UnhashedAbove = DefaultUnhashedAbove
	}
	s := &Server{
		cfg:        cfg,
		tokens:     map[string]*token{},
		sessions:   map[string]*session{},
		creds:      map[string]*minted{},
		packages:   map[int]*Package{},
		nextPkgID:  1,
		categories: map[int]string{},
		nextCatID:  1,
		files:      map[string]*StoredFile{},
		ingested:   map[string]bool{},
		release:    make(chan struct{}),
		privs:      map[string]map[string]bool{},
	}
	for account, list := range cfg.Privileges {
		set := map[string]bool{}
		for _, p := range list {
			set[p] = true
		}
		s.privs[account] = set
	}
	for _, c := range cfg.Categories {
		s.categories[s.nextCatID] = c
		s.nextCatID++
	}
	s.s3 = cfg.S3
	if s.s3 == nil {
		b, err := NewEmbeddedS3()
		if err != nil {
			return nil, err
		}
		s.s3 = b
	}
	if err := s.s3.EnsureBucket(context.Background(), cfg.Bucket); err != nil {
		return nil, fmt.Errorf("simulator: creating bucket %s: %w", cfg.Bucket, err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 30 * time.Second}
	if cfg.TLS {
		// httptest's certificate for 127.0.0.1, which nothing trusts.
		ts := httptest.NewUnstartedServer(nil)
		ts.StartTLS()
		s.srv.TLSConfig = ts.TLS.Clone()
		ts.Close()
		s.URL = "https://" + ln.Addr().String()
		go s.srv.ServeTLS(ln, "", "")
		return s, nil
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Default test credentials.
const (
	DefaultUser         = "admin"
	DefaultPassword     = "sim-password-1234"
	DefaultClientID     = "3d5b9b8a-0c6e-4f57-a2a1-8c0e5c2f0a11"
	DefaultClientSecret = "sim-client-secret-abcdef"
)

// Close stops the simulator (and an embedded S3).
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if s.cfg.S3 == nil {
		s.s3.Close()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return s.srv.Close()
	}
	return err
}

// IssuedSecrets returns every bearer token, S3 secret key and session
// token the simulator has handed out, so tests can prove none leaks.
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// S3Endpoint is the endpoint clients must use (AWS_ENDPOINT_URL_S3).
func (s *Server) S3Endpoint() string {
	if s.cfg.DirectS3 {
		return s.s3.Endpoint()
	}
	return s.URL
}

// Backend returns the S3 storage.
func (s *Server) Backend() Backend { return s.s3 }

// Config returns the configuration in force.
func (s *Server) Config() Config { return s.cfg }

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	s.routeAuth(mux)
	s.routeJCDS(mux)
	s.routePackages(mux)
	s.routeCategories(mux)
	s.routeInventory(mux)
	s.routeClassic(mux)
	s.routeDistributionPoints(mux)
	s.routeUsage(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { writeNotFound(w) })
	mux.HandleFunc("/JSSResource/", func(w http.ResponseWriter, r *http.Request) {
		writeClassicError(w, http.StatusNotFound, "The server has not found anything matching the request URI")
	})
	var jamf http.Handler = mux
	if s.cfg.Wrap != nil {
		jamf = s.cfg.Wrap(mux)
	}
	s3 := s.s3Proxy()
	return s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isJamfPath(r.URL.Path) {
			jamf.ServeHTTP(w, r)
			return
		}
		s3.ServeHTTP(w, r)
	}))
}

// PeakInFlight is the most Jamf requests served at once so far.
func (s *Server) PeakInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakInFlight
}

// enter counts a Jamf request in; false means it is one too many.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxInFlight > 0 && s.inFlight >= s.cfg.MaxInFlight {
		return false
	}
	s.inFlight++
	s.peakInFlight = max(s.peakInFlight, s.inFlight)
	return true
}

func (s *Server) leave() {
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
}

// isJamfPath tells Jamf calls from S3 calls on the shared listener.
func isJamfPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/JSSResource/")
}

// LogEntry is one request the simulator answered.
type LogEntry struct {
	Method   string
	Path     string // path and query as sent
	Status   int
	BytesIn  int64
	BytesOut int64
	Sticky   bool   // the load-balancer cookie came with the request
	Op       string // S3 operation, for S3 entries
}

func (e LogEntry) String() string {
	if e.Op != "" {
		return fmt.Sprintf("%s %d", e.Op, e.Status)
	}
	return fmt.Sprintf("%s %s %d", e.Method, e.Path, e.Status)
}

// Log returns the Jamf requests answered so far.
func (s *Server) Log() []LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogEntry(nil), s.reqLog...)
}

// S3Log returns the S3 requests that went through the proxy.
func (s *Server) S3Log() []LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogEntry(nil), s.s3Log...)
}

// ResetLog forgets the logs.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqLog, s.s3Log = nil, nil
	s.peakInFlight = s.inFlight // PeakInFlight counts from here
}

const stickyCookie = "jpro-ingress"

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type countingBody struct {
	r interface {
		Read([]byte) (int, error)
		Close() error
	}
	n int64
}

func (c *countingBody) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
func (c *countingBody) Close() error { return c.r.Close() }

// middleware logs, injects faults and sets the stickiness cookie.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jamf := isJamfPath(r.URL.Path)
		op := ""
		if !jamf {
			op = s3Operation(r)
		}
		rec := &recorder{ResponseWriter: w}
		body := &countingBody{r: r.Body}
		r.Body = body
		_, cerr := r.Cookie(stickyCookie)
		if jamf && cerr != nil {
			http.SetCookie(w, &http.Cookie{Name: stickyCookie, Value: "sim-node-1", Path: "/", HttpOnly: true})
		}
		// S3 faults apply inside the proxy, after its credential checks:
		// real S3 judges a request's credentials when it arrives.
		switch {
		case !jamf:
			next.ServeHTTP(rec, r)
		case !s.enter():
			rec.Header().Set("Retry-After", "1")
			writeAPIError(rec, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many concurrent requests")
		default:
			func() {
				defer s.leave()
				if !s.applyFault(rec, r, "") {
					next.ServeHTTP(rec, r)
				}
			}()
		}
		e := LogEntry{Method: r.Method, Path: r.URL.RequestURI(), Status: rec.status, BytesIn: body.n, BytesOut: rec.bytes, Sticky: cerr == nil, Op: op}
		if e.Status == 0 {
			e.Status = 200
		}
		s.mu.Lock()
		if jamf {
			s.reqLog = append(s.reqLog, e)
		} else {
			s.s3Log = append(s.s3Log, e)
		}
		s.mu.Unlock()
	})
}
