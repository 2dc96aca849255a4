package jamf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Hardening (issue #22): what a server answers is capped and printed
// escaped, and every message says what happened.

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func clientFor(url string) *Client {
	return New(Options{URL: url, Auth: Credentials{ClientID: "id", ClientSecret: "secret-value"}, MaxTries: 3, Log: nopLog{}})
}

// A redirect to another path of the same server is refused (nothing is
// sent again on a redirect) and said to be that, not "carrying
// credentials elsewhere".
func TestSameHostRedirectSaysSo(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/jamf"+r.URL.Path, http.StatusFound)
	})
	err := clientFor(s.URL).Authenticate(context.Background())
	var re *RedirectError
	if !errors.As(err, &re) || !re.SameHost || !strings.Contains(err.Error(), "to "+s.URL+"/jamf/api/v1/oauth/token on the same server; not followed") || strings.Contains(err.Error(), "elsewhere") {
		t.Fatalf("same-host redirect: %v", err)
	}
}

// JSON that does not fit is described in JSON's words.
func TestJSONErrorsNameNoGoTypes(t *testing.T) {
	for body, want := range map[string]string{
		`{"access_token":"x","expires_in":"600"}`: `field "expires_in" holds a string where a whole number is expected`,
		`{"access_token":5,"expires_in":600}`:     `field "access_token" holds a number where a string is expected`,
		`["a"]`:                                   `the answer holds a list where an object is expected`,
		`{"access_token":`:                        `it ends before the JSON does`,
		`{"access_token" 1}`:                      `it is not valid JSON at byte`,
	} {
		s := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
		err := clientFor(s.URL).Authenticate(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\nwant %s", body, err, want)
			continue
		}
		for _, goWord := range []string{"Go ", "int64", "struct", "unmarshal", "json:"} {
			if strings.Contains(err.Error(), goWord) {
				t.Errorf("%s: %q names Go's %q", body, err, goWord)
			}
		}
	}
}

// An answer past the cap is not read into memory and is reported as cut,
// with or without a Content-Length, and not retried; one of white space
// is not reported as one that "began \"\"".
func TestLongAnswersAreCutAndSaidToBe(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		calls := 0
		s := serve(t, func(w http.ResponseWriter, r *http.Request) {
			calls++
			if !chunked {
				w.Header().Set("Content-Length", fmt.Sprint(maxAnswer+1))
			}
			chunk := []byte(strings.Repeat(" ", 1<<20))
			for n := 0; n <= maxAnswer; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			w.Write([]byte("x"))
		})
		err := clientFor(s.URL).Authenticate(context.Background())
		var tl *TooLargeError
		if !errors.As(err, &tl) || !strings.Contains(err.Error(), "POST /api/v1/oauth/token: the answer is longer than 16 MiB, more than Jamf Pro ever sends; it was cut there and not used") || strings.Contains(err.Error(), `began ""`) {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		if calls != 1 {
			t.Fatalf("chunked %v: a cut answer was asked for %d times", chunked, calls)
		}
	}
	s := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat(" \n", 5000))) })
	if err := clientFor(s.URL).Authenticate(context.Background()); err == nil || !strings.Contains(err.Error(), "(it ends before the JSON does; it is 10000 bytes of white space)") {
		t.Fatalf("white space: %v", err)
	}
}

// A server's error text reaches our one line escaped: no ESC starting a
// terminal sequence, no NUL, no bidi override, no line break.
func TestServerTextIsEscaped(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		w.Write([]byte(`{"error":"invalid_client","error_description":"bad\u001b[2J\u001b[31m client\u0000 \u202eexe.pkg\r\nInjected: yes"}`))
	})
	err := clientFor(s.URL).Authenticate(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x00\r\n\u202e") || !strings.Contains(msg, `bad\x1b[2J\x1b[31m client\x00 \u202eexe.pkg Injected: yes`) {
		t.Fatalf("not escaped: %q", msg)
	}
}

// A caller's deadline (doctor's) ends a dripping answer, and the error
// names that deadline, not the request timeout that did not pass.
func TestCallerDeadlineIsNamed(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for range 600 {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 1500*time.Millisecond, errors.New("the overall deadline of 1.5s passed"))
	defer cancel()
	start := time.Now()
	err := clientFor(s.URL).Authenticate(ctx)
	if err == nil || !strings.Contains(err.Error(), "POST /api/v1/oauth/token: reading the answer: the overall deadline of 1.5s passed") {
		t.Fatalf("dripping answer: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
}

// A 200 MB answer used to be read whole (243 MB of RSS, #22). Reading
// stops at the cap, so what the client allocates stays near the cap,
// whatever the server sends: for the token and for an API answer.
func TestHugeAnswerCostsLittleMemory(t *testing.T) {
	chunk := []byte(strings.Repeat("[", 1<<20))
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/oauth/token" && huge.Load() == 0 {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"tok","expires_in":1200,"token_type":"Bearer"}`)
			return
		}
		for range 200 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	measure := func(what string, call func() error) {
		t.Helper()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := call()
		runtime.ReadMemStats(&after)
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Fatalf("%s: %v", what, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*maxAnswer {
			t.Fatalf("%s: %d MiB allocated for a 200 MiB answer cut at %d MiB", what, alloc>>20, maxAnswer>>20)
		} else {
			t.Logf("%s: %d MiB allocated", what, alloc>>20)
		}
	}
	c := clientFor(s.URL)
	measure("version", func() error { _, err := c.Version(context.Background()); return err })
	huge.Store(1)
	defer huge.Store(0)
	measure("token", func() error { return clientFor(s.URL).Authenticate(context.Background()) })
}

var huge atomic.Int32
