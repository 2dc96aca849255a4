package main

// A release host on loopback HTTPS standing in for GitHub's release
// downloads: the shim's download is tested against real TLS (its CA given
// to Python by SSL_CERT_FILE, nothing switched off), a redirect and a
// server that serves other bytes than the release.

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type releaseHost struct {
	srv    *httptest.Server
	caFile string

	mu       sync.Mutex
	files    map[string]string // name -> path on disk
	tampered map[string][]byte // name -> bytes served instead
	hits     map[string]int
}

func startReleaseHost(t *testing.T) *releaseHost {
	t.Helper()
	h := &releaseHost{files: map[string]string{}, tampered: map[string][]byte{}, hits: map[string]int{}}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(h.handle))
	t.Cleanup(h.srv.Close)
	h.caFile = filepath.Join(t.TempDir(), "release-host-ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})
	if err := os.WriteFile(h.caFile, pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

// URL is https://127.0.0.1:port.
func (h *releaseHost) URL() string { return h.srv.URL }

func (h *releaseHost) serve(name, path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[name] = path
}

// tamper serves data as name from now on (nil: the real file again).
func (h *releaseHost) tamper(name string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if data == nil {
		delete(h.tampered, name)
	} else {
		h.tampered[name] = data
	}
}

// requests is how many times name was asked for under /download/.
func (h *releaseHost) requests(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[name]
}

// /download/NAME serves a release file; /redirect-to-http/NAME sends the
// client to plain http; /redirect/NAME to /download/NAME (as GitHub
// redirects to its object store); anything else is 404.
func (h *releaseHost) handle(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || r.Method != http.MethodGet {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/redirect-to-http/"):
		http.Redirect(w, r, "http://"+r.Host+"/download/"+strings.TrimPrefix(r.URL.Path, "/redirect-to-http/"), http.StatusFound)
		return
	case strings.HasPrefix(r.URL.Path, "/redirect/"):
		http.Redirect(w, r, "/download/"+strings.TrimPrefix(r.URL.Path, "/redirect/"), http.StatusFound)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/download/")
	h.mu.Lock()
	path, known := h.files[name]
	bad, isTampered := h.tampered[name]
	if ok {
		h.hits[name]++
	}
	h.mu.Unlock()
	switch {
	case !ok || !known:
		http.NotFound(w, r)
	case isTampered:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bad)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeFile(w, r, path)
	}
}
