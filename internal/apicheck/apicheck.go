// Package apicheck validates Jamf Pro API traffic against Jamf's own
// OpenAPI files (testdata/openapi, from Jamf-Concepts/jamf-cli) with
// kin-openapi: every request a client sends and every answer the
// simulator gives. It is a test harness: the simulator takes it through
// jamfsim.Config.Wrap, and nothing in the shipped binary imports it.
// Where the simulator knowingly differs from the files, the exceptions
// are in one table (Exceptions, mirrored in testdata/openapi/README.md).
package apicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Files are the specs validated against (the Jamf Pro API ones).
var Files = []string{"Authentication.yaml", "Category.yaml", "CloudDistributionPoint.yaml",
	"ComputerPrestagesV3.yaml", "JamfProVersion.yaml", "Jcds.yaml", "Packages.yaml",
	"PatchSoftwareTitleConfigurations.yaml"}

// Exception is one known difference between the simulator (or Jamf Pro
// as seen live) and the OpenAPI files.
type Exception struct {
	Method, Path string // Path under /api; "*" matches any
	Status       int    // 0: any status; -5: any 5xx
	What, Why    string
	// Patch marks a difference the checker applies to the loaded files
	// (a schema loosened, a scheme declared) rather than matching traffic.
	Patch bool
}

// Exceptions is the one table of differences.
var Exceptions = []Exception{
	{"POST", "/oauth/token", 0, "POST /api/oauth/token is not in the files (they list /v1/oauth/token)",
		"Jamf's documented API client token URL is /api/oauth/token; the simulator serves both", false},
	{"*", "*", 401, "401 INVALID_TOKEN where the operation lists no 401",
		"every Jamf Pro API operation answers a missing or expired token so; the body is checked against ApiError", false},
	{"*", "*", 403, "403 INVALID_PRIVILEGE where the operation lists no 403",
		"reference section 13: one generic body for a missing privilege; checked against ApiError", false},
	{"*", "*", 429, "429 with Retry-After (Config.MaxInFlight)", "an edge limiting a client; not in the files; checked against ApiError", false},
	{"*", "*", -5, "5xx where the operation lists none (injected faults, no JCDS 2.0)", "transient failures and JamfSync's JCDS detection (500); checked against ApiError", false},
	{"*", "*", 404, "404 where the operation lists none", "unknown ids and paths a version lacks; checked against ApiError", false},
	{"*", "*", 400, "400 where the operation lists none", "bad filters, pages and bodies; checked against ApiError", false},
	{"POST", "/v1/packages/{id}/upload", 0, "the multipart request body is not validated",
		"packages of many MB would be buffered; the part name is checked by the simulator itself", false},
	{"*", "*", 0, "ApiErrorCause.field may be null (the files say a required string)",
		"real servers answer \"field\" : null (reference jamf-pro-api.md sections 4 and 13)", true},
	{"*", "*", 0, "security schemes Bearer and BasicAuth are declared for every file",
		"the per-resource files name them but only Jamf's monolithic file declares them", true},
}

// Checker validates traffic and collects violations.
type Checker struct {
	routes   []route
	apiError *openapi3.SchemaRef
	mu       sync.Mutex
	bad      []string
	checked  int
}

type route struct {
	re       *regexp.Regexp
	names    []string
	template string
	doc      *openapi3.T
	item     *openapi3.PathItem
}

// Load reads the specs in dir (testdata/openapi). The patch title file
// names its library DefinitionsLibrary.yaml; the vendored excerpt of
// that library is _MonolithLibrary.yaml (SOURCES.md).
func Load(dir string) (*Checker, error) {
	c := &Checker{}
	for _, f := range Files {
		loader := openapi3.NewLoader()
		loader.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
			p := u.Path
			if filepath.Base(p) == "DefinitionsLibrary.yaml" {
				p = filepath.Join(filepath.Dir(p), "_MonolithLibrary.yaml")
			}
			if !strings.HasPrefix(filepath.Clean(p), filepath.Clean(dir)) {
				return nil, fmt.Errorf("apicheck: %s is outside %s", p, dir)
			}
			return os.ReadFile(p)
		}
		doc, err := loader.LoadFromFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", f, err)
		}
		patch(doc)
		for _, tmpl := range doc.Paths.InMatchingOrder() {
			re, names := compile(tmpl)
			c.routes = append(c.routes, route{re: re, names: names, template: tmpl, doc: doc, item: doc.Paths.Value(tmpl)})
		}
		if c.apiError == nil && doc.Components != nil {
			if s := doc.Components.Schemas["ApiError"]; s != nil {
				c.apiError = s
			}
		}
	}
	if c.apiError == nil {
		lib := openapi3.NewLoader()
		lib.IsExternalRefsAllowed = true
		doc, err := lib.LoadFromFile(filepath.Join(dir, "_MonolithLibrary.yaml"))
		if err != nil {
			return nil, err
		}
		c.apiError = doc.Components.Schemas["ApiError"]
	}
	nullableField(c.apiError, map[*openapi3.Schema]bool{})
	// Literal paths before templated ones (delete-multiple before {id}).
	sort.SliceStable(c.routes, func(i, j int) bool {
		return len(c.routes[i].names) < len(c.routes[j].names)
	})
	return c, nil
}

// patch applies the Patch exceptions to a loaded file.
func patch(doc *openapi3.T) {
	if doc.Components == nil {
		doc.Components = &openapi3.Components{}
	}
	if doc.Components.SecuritySchemes == nil {
		doc.Components.SecuritySchemes = openapi3.SecuritySchemes{}
	}
	for name, scheme := range map[string]string{"Bearer": "bearer", "BasicAuth": "basic"} {
		if doc.Components.SecuritySchemes[name] == nil {
			doc.Components.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: openapi3.NewSecurityScheme().WithType("http").WithScheme(scheme)}
		}
	}
	// ApiErrorCause lives in the library the files reference; loosen it
	// wherever an answer reaches it.
	seen := map[*openapi3.Schema]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, mt := range resp.Value.Content {
					nullableField(mt.Schema, seen)
				}
			}
		}
	}
}

// nullableField makes "field" nullable in every ApiErrorCause under s.
func nullableField(s *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if s == nil || s.Value == nil || seen[s.Value] {
		return
	}
	v := s.Value
	seen[v] = true
	if f := v.Properties["field"]; f != nil && f.Value != nil && v.Properties["code"] != nil && v.Properties["description"] != nil {
		f.Value.Nullable = true
	}
	for _, p := range v.Properties {
		nullableField(p, seen)
	}
	nullableField(v.Items, seen)
	for _, list := range []openapi3.SchemaRefs{v.AllOf, v.AnyOf, v.OneOf} {
		for _, x := range list {
			nullableField(x, seen)
		}
	}
}

var param = regexp.MustCompile(`\{([^}]+)\}`)

// compile turns /v1/packages/{id} into a pattern and its parameter names.
func compile(tmpl string) (*regexp.Regexp, []string) {
	var names []string
	var b strings.Builder
	last := 0
	for _, m := range param.FindAllStringSubmatchIndex(tmpl, -1) {
		b.WriteString(regexp.QuoteMeta(tmpl[last:m[0]]))
		b.WriteString(`([^/]+)`)
		names = append(names, tmpl[m[2]:m[3]])
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(tmpl[last:]))
	return regexp.MustCompile("^" + b.String() + "$"), names
}

func (c *Checker) find(method, path string) (*routers.Route, map[string]string) {
	for _, r := range c.routes {
		m := r.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		op := r.item.GetOperation(method)
		if op == nil {
			continue
		}
		params := map[string]string{}
		for i, n := range r.names {
			v, err := url.PathUnescape(m[i+1])
			if err != nil {
				v = m[i+1]
			}
			params[n] = v
		}
		return &routers.Route{Spec: r.doc, Path: r.template, PathItem: r.item, Method: method, Operation: op}, params
	}
	return nil, nil
}

func (c *Checker) exception(method, tmpl string, status int) bool {
	for _, e := range Exceptions {
		if !e.Patch && (e.Method == "*" || e.Method == method) && (e.Path == "*" || e.Path == tmpl) &&
			(e.Status == 0 || e.Status == status || e.Status == -5 && status >= 500) {
			return true
		}
	}
	return false
}

func (c *Checker) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) < 200 {
		c.bad = append(c.bad, fmt.Sprintf(format, args...))
	}
}

// Violations returns what did not match the specs so far.
func (c *Checker) Violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bad...)
}

// Checked is the number of exchanges validated.
func (c *Checker) Checked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checked
}

type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *capture) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *capture) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	if w.body.Len() < 8<<20 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *capture) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Wrap validates each /api/ exchange passing through next.
func (c *Checker) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel, ok := strings.CutPrefix(r.URL.Path, "/api")
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		rt, params := c.find(r.Method, rel)
		if rt == nil {
			cw := &capture{ResponseWriter: w}
			next.ServeHTTP(cw, r)
			// A path the server does not serve answers 404 by design.
			if cw.status != 404 && !c.exception(r.Method, rel, 0) {
				c.fail("%s %s: no operation in the OpenAPI files (answered %d)", r.Method, r.URL.Path, cw.status)
			}
			return
		}
		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
		if c.exception(r.Method, rt.Path, 0) || strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			opts.ExcludeRequestBody = true
		}
		var body []byte
		if !opts.ExcludeRequestBody && r.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(r.Body, 4<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		in := &openapi3filter.RequestValidationInput{Request: r.Clone(context.Background()), PathParams: params, Route: rt, Options: opts}
		if body != nil {
			in.Request.Body = io.NopCloser(bytes.NewReader(body))
		}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.fail("request %s %s: %s", r.Method, r.URL.RequestURI(), oneLine(err))
		}
		cw := &capture{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		c.checkResponse(r, rt, in, cw)
	})
}

func (c *Checker) checkResponse(r *http.Request, rt *routers.Route, in *openapi3filter.RequestValidationInput, cw *capture) {
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	status := cw.status
	if status == 0 {
		status = 200
	}
	listed := rt.Operation.Responses.Status(status) != nil
	if !listed && status >= 400 {
		if !c.exception(r.Method, rt.Path, status) {
			c.fail("response %s %s: status %d is not in the spec", r.Method, r.URL.Path, status)
			return
		}
		if err := c.checkAPIError(cw.body.Bytes()); err != nil {
			c.fail("response %s %s %d: not an ApiError: %s", r.Method, r.URL.Path, status, oneLine(err))
		}
		return
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: cw.Header(),
		Options: in.Options}
	out.SetBodyBytes(cw.body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.fail("response %s %s %d: %s", r.Method, r.URL.Path, status, oneLine(err))
	}
}

func (c *Checker) checkAPIError(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return c.apiError.Value.VisitJSON(v)
}

func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}
