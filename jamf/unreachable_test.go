package jamf

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// versionServer answers the token and version requests on l.
func versionServer(l net.Listener) *http.Server {
	s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			w.Write([]byte(`{"access_token":"tok","expires_in":600}`))
			return
		}
		w.Write([]byte(`{"version":"11.30.1"}`))
	})}
	go s.Serve(l)
	return s
}

// A server that never answered is unreachable at once (a wrong URL); one
// that answered before and now refuses connections is restarting, and
// the request is retried until it is back.
func TestRefusedIsFinalOnlyBeforeFirstContact(t *testing.T) {
	old := RetryBase
	RetryBase = 50 * time.Millisecond
	t.Cleanup(func() { RetryBase = old })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	srv := versionServer(l)
	c := New(Options{URL: "http://" + addr, Auth: Credentials{ClientID: "id", ClientSecret: "secret-1234"}, MaxTries: 5, Log: nopLog{}})
	ctx := context.Background()
	if _, err := c.Version(ctx); err != nil {
		t.Fatal(err)
	}

	// The server goes away and comes back on the same port.
	srv.Close()
	back := make(chan *http.Server, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			back <- nil
			return
		}
		back <- versionServer(l)
	}()
	if _, err := c.Version(ctx); err != nil {
		t.Fatalf("a restart must be retried through: %v", err)
	}
	if s := <-back; s != nil {
		s.Close()
	} else {
		t.Skip("the port was taken in between; cannot restart the server on it")
	}

	// Gone for good after answering: retried, then reported as reached
	// before (the run may have changed something).
	c3 := New(Options{URL: "http://" + addr, Auth: Credentials{ClientID: "id", ClientSecret: "secret-1234"}, MaxTries: 2, Log: nopLog{}})
	c3.answered.Store(true)
	_, err = c3.Version(ctx)
	var gone *UnreachableError
	if !errors.As(err, &gone) || !gone.Reached || !strings.Contains(err.Error(), "gave up after 2 tries") {
		t.Fatalf("want a retried UnreachableError marked Reached, got %v", err)
	}

	// A new client whose server never answered: at once, no retries.
	c2 := New(Options{URL: "http://" + addr, Auth: Credentials{ClientID: "id", ClientSecret: "secret-1234"}, MaxTries: 5, Log: nopLog{}})
	start := time.Now()
	_, err = c2.Version(ctx)
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Reached || strings.Contains(err.Error(), "gave up") {
		t.Fatalf("want an immediate UnreachableError, got %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %s: it was retried", took)
	}
}
