package jamf

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type nopLog struct{}

func (nopLog) Logf(int, string, ...any) {}
func (nopLog) Secret(string)            {}

// elsewhere records every request that reaches "another host".
type elsewhere struct {
	mu   sync.Mutex
	seen []string
}

func (e *elsewhere) server(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.seen = append(e.seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" body="+string(body))
		e.mu.Unlock()
		w.WriteHeader(200)
		w.Write([]byte(`{"access_token":"stolen","expires_in":600}`))
	}))
	t.Cleanup(s.Close)
	return s
}

// Credentials never follow a redirect: the OAuth form (the client
// secret), the Basic header and bearer tokens stay with the server they
// were meant for, and the error names where the redirect pointed.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	other := &elsewhere{}
	target := other.server(t)
	for _, status := range []int{301, 302, 303, 307, 308} {
		jamf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+r.URL.Path, status)
		}))
		for _, creds := range []Credentials{
			{ClientID: "id", ClientSecret: "the-client-secret"},
			{Username: "admin", Password: "the-password"},
			{BearerToken: "the-token"},
		} {
			c := New(Options{URL: jamf.URL, Auth: creds, MaxTries: 3, Log: nopLog{}})
			err := c.Authenticate(context.Background())
			var re *RedirectError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), target.URL) {
				t.Fatalf("%d: want a RedirectError naming %s, got %v", status, target.URL, err)
			}
			if c.Calls() != 1 {
				t.Fatalf("%d: a redirect is not retried: %d calls", status, c.Calls())
			}
		}
		jamf.Close()
	}
	if len(other.seen) != 0 {
		t.Fatalf("requests reached the other host: %v", other.seen)
	}
}

// A redirect from https to plain http on the same host is refused
// outright (Go keeps the Authorization header when the host is the same).
func TestDowngradeRedirectIsRefused(t *testing.T) {
	plain := &elsewhere{}
	plainSrv := plain.server(t)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plainSrv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer tls.Close()
	c := New(Options{URL: tls.URL, Insecure: true, Auth: Credentials{Username: "admin", Password: "pw"}, Log: nopLog{}})
	err := c.Authenticate(context.Background())
	var re *RedirectError
	if !errors.As(err, &re) || !re.Downgrade || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("want a downgrade refusal, got %v", err)
	}
	if len(plain.seen) != 0 {
		t.Fatalf("the credentials went out in clear text: %v", plain.seen)
	}
}

// A token whose stated expiry is already past (a skewed clock) is
// believed for a minute, not re-minted before every request; one
// absurdly far off is renewed within a day.
func TestTokenLifetimeIsClamped(t *testing.T) {
	for _, c := range []struct {
		name    string
		expires time.Time
		wantMin time.Duration
		wantMax time.Duration
	}{
		{"already past", time.Now().Add(-time.Hour), 55 * time.Second, 61 * time.Second},
		{"a century", time.Now().Add(100 * 365 * 24 * time.Hour), 23 * time.Hour, 24 * time.Hour},
		{"thirty minutes", time.Now().Add(30 * time.Minute), 29 * time.Minute, 30 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mints atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/api/v1/auth/token":
					mints.Add(1)
					json.NewEncoder(w).Encode(map[string]string{"token": "tok", "expires": c.expires.UTC().Format(time.RFC3339)})
				default:
					w.Write([]byte(`{"version":"11.30.1"}`))
				}
			}))
			defer srv.Close()
			cl := New(Options{URL: srv.URL, Auth: Credentials{Username: "u", Password: "p"}, Log: nopLog{}})
			for range 5 {
				if _, err := cl.Version(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if n := mints.Load(); n != 1 {
				t.Fatalf("minted %d tokens for 5 requests", n)
			}
			_, left := cl.TokenLifetime()
			if d := time.Duration(left * float64(time.Second)); d < c.wantMin || d > c.wantMax {
				t.Fatalf("believed lifetime %s, want %s to %s", d, c.wantMin, c.wantMax)
			}
		})
	}
}

// Reserved characters go into a path percent-encoded, "+" included:
// the Classic API decodes a literal "+" to a space.
func TestPathEscape(t *testing.T) {
	for in, want := range map[string]string{
		"Foo+Bar-2.0.pkg":     "Foo%2BBar-2.0.pkg",
		"Aged 5+ Years":       "Aged%205%2B%20Years",
		"a/b?c#d&e=f;g":       "a%2Fb%3Fc%23d%26e%3Df%3Bg",
		"Café.pkg":            "Caf%C3%A9.pkg",
		"Plain_name-1.2~.pkg": "Plain_name-1.2~.pkg",
	} {
		if got := PathEscape(in); got != want {
			t.Errorf("PathEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
