package jamfsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var minio *MinIOProcess

func TestMain(m *testing.M) {
	var err error
	if minio, err = StartMinIO(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the simulator tests need MinIO:", err)
		os.Exit(1)
	}
	code := m.Run()
	minio.Stop()
	os.Exit(code)
}

// newSim starts a simulator on MinIO (a fresh bucket per test).
func newSim(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.S3 == nil {
		cfg.S3 = minio.Backend()
		cfg.Bucket = "b" + strings.ToLower(randomHex(6))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client is a plain net/http client for the simulator's API.
type client struct {
	t     *testing.T
	s     *Server
	token string
}

func (c *client) do(method, path string, body io.Reader, hdr ...string) (int, []byte, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.s.URL+path, body)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header
}

func login(t *testing.T, s *Server) *client {
	t.Helper()
	c := &client{t: t, s: s}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
	st, body, _ := c.do("POST", "/api/v1/oauth/token", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if st != 200 {
		t.Fatalf("oauth: %d %s", st, body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(body, &out)
	c.token = out.AccessToken
	return c
}

// check validates a response against the schema fixture.
func check(t *testing.T, fx map[string]endpoint, op string, status int, body []byte) {
	t.Helper()
	e, ok := fx[op]
	if !ok {
		t.Fatalf("%s is not in the fixture", op)
	}
	st := fmt.Sprint(status)
	if !contains(e.Statuses, st) {
		t.Fatalf("%s answered %s; the schema documents %v (body %s)", op, st, e.Statuses, body)
	}
	shape, ok := e.Bodies[st]
	if !ok {
		if len(bytes.TrimSpace(body)) != 0 {
			t.Fatalf("%s %s: the schema has no body but got %s", op, st, body)
		}
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %s", op, st, body)
	}
	if err := conform(v, shape, op); err != nil {
		t.Fatal(err)
	}
}

// apiErrorShape is the schema's ApiError, for error answers.
var apiErrorShape = map[string]any{"httpStatus": "integer", "errors": []any{map[string]any{"code": "string", "field": "string?", "description": "string", "id": "string?"}}}

func checkAPIError(t *testing.T, status, want int, body []byte, code string) {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d (%s)", status, want, body)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if err := conform(v, apiErrorShape, "ApiError"); err != nil {
		t.Fatal(err)
	}
	if v["httpStatus"].(float64) != float64(want) || !strings.Contains(string(body), `"`+code+`"`) {
		t.Fatalf("error body %s: want httpStatus %d and code %s", body, want, code)
	}
}

func s3For(s *Server, cr map[string]any, withToken bool) *s3.Client {
	tok := ""
	if withToken {
		tok = cr["sessionToken"].(string)
	}
	return s3.New(s3.Options{
		Region:       cr["region"].(string),
		Credentials:  credentials.NewStaticCredentialsProvider(cr["accessKeyID"].(string), cr["secretAccessKey"].(string), tok),
		BaseEndpoint: aws.String(s.S3Endpoint()),
		UsePathStyle: true,
	})
}

func newUpload(t *testing.T, c *client, fx map[string]endpoint) map[string]any {
	t.Helper()
	st, body, _ := c.do("POST", "/api/v1/jcds/files", nil)
	check(t, fx, "POST /v1/jcds/files", st, body)
	var cr map[string]any
	json.Unmarshal(body, &cr)
	return cr
}

func put(t *testing.T, s *Server, cr map[string]any, key string, data []byte) error {
	t.Helper()
	_, err := s3For(s, cr, true).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(cr["bucketName"].(string)), Key: aws.String(key), Body: bytes.NewReader(data)})
	return err
}

func TestEndpointsFollowTheSchema(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{})
	c := &client{t: t, s: s}

	// Auth: basic token, keep-alive, GET auth, invalidate.
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/auth/token", nil)
	req.SetBasicAuth(DefaultUser, DefaultPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	check(t, fx, "POST /v1/auth/token", resp.StatusCode, body)
	var tok struct{ Token, Expires string }
	json.Unmarshal(body, &tok)
	c.token = tok.Token
	st, body, _ := c.do("GET", "/api/v1/auth", nil)
	check(t, fx, "GET /v1/auth", st, body)
	st, body, _ = c.do("POST", "/api/v1/auth/keep-alive", nil)
	check(t, fx, "POST /v1/auth/keep-alive", st, body)
	old := c.token
	json.Unmarshal(body, &tok)
	c.token = old
	st, body, _ = c.do("GET", "/api/v1/jamf-pro-version", nil)
	checkAPIError(t, st, 401, body, "INVALID_TOKEN") // keep-alive invalidated the old token
	c.token = tok.Token
	st, body, _ = c.do("POST", "/api/v1/auth/invalidate-token", nil)
	check(t, fx, "POST /v1/auth/invalidate-token", st, body)
	st, body, _ = c.do("GET", "/api/v1/jamf-pro-version", nil)
	checkAPIError(t, st, 401, body, "INVALID_TOKEN")

	c = login(t, s)
	st, body, _ = c.do("GET", "/api/v1/jamf-pro-version", nil)
	check(t, fx, "GET /v1/jamf-pro-version", st, body)

	// JCDS: credentials, an upload, listing, download URL, delete.
	cr := newUpload(t, c, fx)
	if p := cr["path"].(string); p != "tmp/"+cr["uuid"].(string)+"/" {
		t.Fatalf("path %q is not tmp/<uuid>/", p)
	}
	if err := put(t, s, cr, cr["path"].(string)+"Tool 1.0+beta.pkg", []byte("hello jcds")); err != nil {
		t.Fatal(err)
	}
	st, body, _ = c.do("POST", "/api/v1/jcds/renew-credentials", nil)
	check(t, fx, "POST /v1/jcds/renew-credentials", st, body)
	st, body, _ = c.do("GET", "/api/v1/jcds/files", nil)
	check(t, fx, "GET /v1/jcds/files", st, body)
	// JCDS computes the hashes from the stored bytes.
	want, _ := digest(strings.NewReader("hello jcds"))
	if !strings.Contains(string(body), `"fileName" : "Tool 1.0+beta.pkg"`) || !strings.Contains(string(body), want.MD5) || !strings.Contains(string(body), want.SHA3) {
		t.Fatalf("listing lacks the upload: %s", body)
	}
	st, body, _ = c.do("GET", "/api/v1/jcds/files/"+url.PathEscape("Tool 1.0+beta.pkg"), nil)
	check(t, fx, "GET /v1/jcds/files/{fileName}", st, body)
	st, body, _ = c.do("POST", "/api/v1/jcds/refresh-inventory?file-name=x.pkg", nil)
	check(t, fx, "POST /v1/jcds/refresh-inventory", st, body)
	st, body, _ = c.do("POST", "/api/v1/cloud-distribution-point/refresh-inventory?file-name="+url.QueryEscape("Tool 1.0+beta.pkg"), nil)
	check(t, fx, "POST /v1/cloud-distribution-point/refresh-inventory", st, body)
	st, body, _ = c.do("DELETE", "/api/v1/jcds/files/"+url.PathEscape("Tool 1.0+beta.pkg"), nil)
	check(t, fx, "DELETE /v1/jcds/files/{fileName}", st, body)
	st, body, _ = c.do("DELETE", "/api/v1/jcds/files/nonexistentfile", nil)
	checkAPIError(t, st, 404, body, "NOT_FOUND")

	// Categories and packages.
	st, body, _ = c.do("GET", "/api/v1/categories?filter="+url.QueryEscape(`name=="Testing"`), nil)
	check(t, fx, "GET /v1/categories", st, body)
	st, body, _ = c.do("POST", "/api/v1/categories", strings.NewReader(`{"name":"New Cat","priority":9}`), "Content-Type", "application/json")
	check(t, fx, "POST /v1/categories", st, body)
	pkg := `{"packageName":"Tool","fileName":"Tool.pkg","categoryId":"-1","priority":10,"fillUserTemplate":false,"rebootRequired":false,"osInstall":false,"suppressUpdates":false,"suppressFromDock":false,"suppressEula":false,"suppressRegistration":false}`
	st, body, _ = c.do("POST", "/api/v1/packages", strings.NewReader(pkg), "Content-Type", "application/json")
	check(t, fx, "POST /v1/packages", st, body)
	st, body, _ = c.do("POST", "/api/v1/packages", strings.NewReader(pkg), "Content-Type", "application/json")
	checkAPIError(t, st, 400, body, "DUPLICATE_FIELD")
	st, body, _ = c.do("POST", "/api/v1/packages", strings.NewReader(`{"packageName":"X"}`), "Content-Type", "application/json")
	checkAPIError(t, st, 400, body, "INVALID_FIELD")
	st, body, _ = c.do("GET", "/api/v1/packages?page=0&page-size=100&sort=id:asc&filter="+url.QueryEscape(`fileName=="Tool.pkg" or packageName=="nope"`), nil)
	check(t, fx, "GET /v1/packages", st, body)
	if !strings.Contains(string(body), `"totalCount" : 1`) {
		t.Fatalf("filter found wrong records: %s", body)
	}
	st, body, _ = c.do("GET", "/api/v1/packages/1", nil)
	check(t, fx, "GET /v1/packages/{id}", st, body)
	st, body, _ = c.do("PUT", "/api/v1/packages/1", strings.NewReader(strings.Replace(pkg, `"priority":10`, `"priority":12`, 1)), "Content-Type", "application/json")
	check(t, fx, "PUT /v1/packages/{id}", st, body)
	st, body, _ = c.do("GET", "/api/v1/packages/99", nil)
	checkAPIError(t, st, 404, body, "INVALID_ID")

	// The packages upload route: multipart field "file" named as the record.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "Tool.pkg")
	fw.Write([]byte("package bytes"))
	mw.Close()
	st, body, _ = c.do("POST", "/api/v1/packages/1/upload", bytes.NewReader(mp.Bytes()), "Content-Type", mw.FormDataContentType())
	check(t, fx, "POST /v1/packages/{id}/upload", st, body)
	st, body, _ = c.do("GET", "/api/v1/packages/1", nil)
	check(t, fx, "GET /v1/packages/{id}", st, body)
	if !strings.Contains(string(body), `"hashType" : "SHA3_512"`) || !strings.Contains(string(body), `"cloudTransferStatus" : "READY"`) {
		t.Fatalf("processed upload should give SHA3_512 and READY: %s", body)
	}
	st, body, _ = c.do("DELETE", "/api/v1/packages/1", nil)
	check(t, fx, "DELETE /v1/packages/{id}", st, body)
	if len(s.Files()) != 0 {
		t.Fatalf("deleting the record must delete its file: %v", s.Files())
	}

	// Every Jamf answer carried the stickiness cookie offer or was sticky.
	for _, e := range s.Log() {
		if e.Status == 0 {
			t.Fatalf("unlogged status in %v", e)
		}
	}
}

func TestUploadRejectsAFileNameUnlikeTheRecord(t *testing.T) {
	s := newSim(t, Config{S3: nil})
	c := login(t, s)
	id := s.AddPackage(Package{PackageName: "Tool", FileName: "Tool.pkg", CategoryID: "-1", Priority: 10})
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "Other.pkg")
	fw.Write([]byte("x"))
	mw.Close()
	st, body, _ := c.do("POST", fmt.Sprintf("/api/v1/packages/%d/upload", id), bytes.NewReader(mp.Bytes()), "Content-Type", mw.FormDataContentType())
	checkAPIError(t, st, 400, body, "INVALID_FILE_NAME")
}

func TestSTSCredentialsAreScopedToTheUploadPath(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{})
	c := login(t, s)
	cr := newUpload(t, c, fx)
	if err := put(t, s, cr, cr["path"].(string)+"ok.pkg", []byte("inside")); err != nil {
		t.Fatalf("a put inside tmp/<uuid>/ must work: %v", err)
	}
	err := put(t, s, cr, "tmp/other-uuid/evil.pkg", []byte("outside"))
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("a put outside tmp/<uuid>/ must be refused with AccessDenied, got %v", err)
	}
	_, err = s3For(s, cr, false).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(cr["bucketName"].(string)), Key: aws.String(cr["path"].(string) + "notoken.pkg"), Body: strings.NewReader("x")})
	if err == nil {
		t.Fatal("a put without the session token must be refused")
	}
	t.Logf("without session token: %v", err)
}

func TestSecondUploadOfTheSameNameBecomesADuplicate(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{})
	c := login(t, s)
	for i, data := range []string{"version one", "version two"} {
		cr := newUpload(t, c, fx)
		if err := put(t, s, cr, cr["path"].(string)+"App.pkg", []byte(data)); err != nil {
			t.Fatal(err)
		}
		s.Ingest(context.Background())
		if got := len(s.Files()); got != i+1 {
			t.Fatalf("after upload %d: %d files", i+1, got)
		}
	}
	files := s.Files()
	if _, ok := files["App_1.pkg"]; !ok {
		t.Fatalf("the second upload should be stored as App_1.pkg: %v", files)
	}
	if files["App.pkg"].MD5 == files["App_1.pkg"].MD5 {
		t.Fatal("the two files should differ")
	}
}

func TestExpiredCredentialsAndTokensAreRefused(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{})
	c := login(t, s)
	cr := newUpload(t, c, fx)
	s.ExpireS3Credentials()
	if err := put(t, s, cr, cr["path"].(string)+"late.pkg", []byte("x")); err == nil || !strings.Contains(err.Error(), "ExpiredToken") {
		t.Fatalf("expired credentials must give ExpiredToken, got %v", err)
	}
	s.ExpireTokens()
	st, body, _ := c.do("GET", "/api/v1/jcds/files", nil)
	checkAPIError(t, st, 401, body, "INVALID_TOKEN")
}

func TestServerWithoutJCDS(t *testing.T) {
	s := newSim(t, Config{NoJCDS: true})
	c := login(t, s)
	st, body, _ := c.do("GET", "/api/v1/jcds/files/nonexistentfile", nil)
	checkAPIError(t, st, 500, body, "UNEXPECTED_ERROR")
	st, body, _ = c.do("POST", "/api/v1/jcds/files", nil)
	checkAPIError(t, st, 500, body, "UNEXPECTED_ERROR")
}

func TestOldServersLackNewEndpoints(t *testing.T) {
	s := newSim(t, Config{Version: "11.4.0"})
	c := login(t, s)
	st, body, _ := c.do("GET", "/api/v1/packages", nil)
	checkAPIError(t, st, 404, body, "NOT_FOUND")
	st, body, _ = c.do("POST", "/api/v1/cloud-distribution-point/refresh-inventory", nil)
	checkAPIError(t, st, 404, body, "NOT_FOUND")
	st, body, _ = c.do("GET", "/JSSResource/packages/name/nothing", nil, "Accept", "application/xml")
	if st != 404 || !strings.Contains(string(body), "<p>Error:") {
		t.Fatalf("Classic 404 should be Jamf's HTML status page: %d %s", st, body)
	}
}

func TestFaultsAreInjected(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	s.FailRetryAfter("GET /api/v1/jamf-pro-version", 503, 1, 2)
	st, body, hdr := c.do("GET", "/api/v1/jamf-pro-version", nil)
	checkAPIError(t, st, 503, body, "INJECTED_FAULT")
	if hdr.Get("Retry-After") != "2" {
		t.Fatalf("Retry-After = %q", hdr.Get("Retry-After"))
	}
	if st, _, _ := c.do("GET", "/api/v1/jamf-pro-version", nil); st != 200 {
		t.Fatalf("the fault should apply once, then %d", st)
	}
	s.Drop("GET /api/v1/jamf-pro-version", 1)
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/jamf-pro-version", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := fresh.Do(req); err == nil {
		t.Fatal("a dropped connection should fail the request")
	}
	// The dropped request is logged when its handler returns, which can
	// be just after the client saw the connection close: wait for it.
	log := s.Log()
	for deadline := time.Now().Add(5 * time.Second); len(log) < 4 && time.Now().Before(deadline); log = s.Log() {
		time.Sleep(10 * time.Millisecond)
	}
	if len(log) != 4 || log[2].Status != 200 || log[3].Path != "/api/v1/jamf-pro-version" {
		t.Fatalf("request log: %v", log)
	}
}
