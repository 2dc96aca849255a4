package processor

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// A password with every character some encoding changes.
const hostilePassword = `p@ss:w/rd+&="<>'\ ü?#%-long`

// encodings are the forms in which a server echoing a request (or an
// error quoting one) could carry s, computed here independently of the
// logger's own list.
func encodings(s string) map[string]string {
	var x strings.Builder
	xml.EscapeText(&x, []byte(s))
	j, _ := json.Marshal(s)
	q := strconv.Quote(s)
	return map[string]string{
		"plain":            s,
		"base64":           base64.StdEncoding.EncodeToString([]byte(s)),
		"base64url":        base64.URLEncoding.EncodeToString([]byte(s)),
		"base64 raw":       base64.RawStdEncoding.EncodeToString([]byte(s)),
		"base64url raw":    base64.RawURLEncoding.EncodeToString([]byte(s)),
		"query":            url.QueryEscape(s),
		"query lower hex":  strings.ToLower(url.QueryEscape(s)),
		"path":             url.PathEscape(s),
		"json":             string(j),
		"go quoted":        q,
		"html":             html.EscapeString(s),
		"xml":              x.String(),
		"hex":              hex.EncodeToString([]byte(s)),
		"HEX":              strings.ToUpper(hex.EncodeToString([]byte(s))),
		"form body":        url.Values{"grant_type": {"client_credentials"}, "client_secret": {s}}.Encode(),
		"json body base64": base64.StdEncoding.EncodeToString([]byte(`{"grant_type":"password","password":"` + s + `","x":1}`)),
		"shifted base64 1": base64.StdEncoding.EncodeToString([]byte("a" + s + "zz")),
		"shifted base64 2": base64.URLEncoding.EncodeToString([]byte("ab" + s + "z")),
	}
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_=-]{8,}`)

// leaks reports whether out holds secret, or four bytes of it, in any
// of the encodings, including inside any base64 text at any alignment.
func leaks(out, secret string) string {
	for name, e := range encodings(secret) {
		if strings.Contains(out, e) {
			return name
		}
	}
	for _, run := range base64Run.FindAllString(out, -1) {
		run = strings.TrimRight(run, "=")
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			for drop := range 4 {
				if drop >= len(run) {
					break
				}
				r := run[drop:]
				r = r[:len(r)/4*4]
				dec, err := enc.DecodeString(r)
				if err != nil {
					continue
				}
				for i := 0; i+4 <= len(secret); i++ {
					if strings.Contains(string(dec), secret[i:i+4]) {
						return "base64 fragment " + run
					}
				}
			}
		}
	}
	return ""
}

func TestLoggerScrubsEveryEncodingAtEveryVerbosity(t *testing.T) {
	user := "api-admin"
	for verbose := range 5 {
		var b strings.Builder
		log := NewLogger(&b, verbose)
		log.Secret(hostilePassword)
		log.Secret(user + ":" + hostilePassword) // as Process registers the Basic pair
		forms := encodings(hostilePassword)
		forms["basic header"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+hostilePassword))
		for name, f := range forms {
			for level := range verbose + 1 {
				log.Logf(level, "server echoed %s: %s (end)", name, f)
			}
			log.Error("Jamf Pro answered 400: " + f + " is wrong")
		}
		out := b.String()
		if n := strings.Count(out, "\n"); n < len(forms)*(verbose+2) {
			t.Fatalf("verbose %d: only %d lines logged", verbose, n)
		}
		if what := leaks(out, hostilePassword); what != "" {
			t.Fatalf("verbose %d: the password leaked as %s:\n%s", verbose, what, out)
		}
		if what := leaks(out, user+":"+hostilePassword); what != "" {
			t.Fatalf("verbose %d: user:password leaked as %s", verbose, what)
		}
		if !strings.Contains(out, "[redacted]") || !strings.Contains(out, "server echoed hex") {
			t.Fatalf("verbose %d: lines were dropped instead of scrubbed:\n%s", verbose, out)
		}
	}
}

// Short ordinary values are not secrets' encodings: scrubbing must not
// eat the log.
func TestScrubbingLeavesOrdinaryTextAlone(t *testing.T) {
	var b strings.Builder
	log := NewLogger(&b, 1)
	log.Secret("abcd") // short: only the value itself is scrubbed
	log.Secret(hostilePassword)
	log.Logf(0, "Uploaded 12.0 MiB in 1.5s (8.0 MiB/s) to https://jamf.example.com/api/v1/packages?page=0")
	if want := Name + ": Uploaded 12.0 MiB in 1.5s (8.0 MiB/s) to https://jamf.example.com/api/v1/packages?page=0\n"; b.String() != want {
		t.Fatalf("ordinary text changed:\n got %q\nwant %q", b.String(), want)
	}
}

// echoUploader logs what a hostile server would echo of the request.
type echoUploader struct{}

func (echoUploader) Upload(ctx context.Context, req *jcds2.Request, log jcds2.Logger) (*jcds2.Result, error) {
	a := req.Auth
	log.Logf(0, "echo: Authorization: Basic %s", base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)))
	log.Logf(0, "echo: Authorization: Basic %s", base64.StdEncoding.EncodeToString([]byte(a.ClientID+":"+a.ClientSecret)))
	log.Logf(0, "echo: body %s", url.Values{"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}}.Encode())
	return nil, fmt.Errorf("server said %q", a.Password+a.ClientSecret)
}

// Process registers the credentials it knows, pairs included.
func TestProcessScrubsEchoedCredentials(t *testing.T) {
	for verbose := range 5 {
		var b strings.Builder
		log := NewLogger(&b, verbose)
		env := Env{"JSS_URL": "https://x.jamfcloud.com", "pkg_path": validPkg(t), "API_USERNAME": "admin", "API_PASSWORD": hostilePassword,
			"CLIENT_ID": "client-id-1", "CLIENT_SECRET": "cl1ent+secret/value=", "dry_run": true}
		_, err := Process(context.Background(), echoUploader{}, env, log)
		if err == nil {
			t.Fatal("the echo uploader fails")
		}
		log.Error(err.Error())
		out := b.String()
		for _, s := range []string{hostilePassword, "admin:" + hostilePassword, "cl1ent+secret/value=", "client-id-1:cl1ent+secret/value="} {
			if what := leaks(out, s); what != "" {
				t.Fatalf("verbose %d: %q leaked as %s:\n%s", verbose, s, what, out)
			}
		}
		if strings.Count(out, "echo:") != 3 {
			t.Fatalf("verbose %d: the echoes were not logged:\n%s", verbose, out)
		}
	}
}
