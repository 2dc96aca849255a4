package jamfsim

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

type token struct {
	expires time.Time
	client  bool
	subject string
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) newToken(client bool, subject string) (string, time.Time) {
	tok := "eyJhbGciOiJIUzI1NiJ9." + randomHex(24)
	exp := time.Now().Add(s.cfg.TokenLifetime)
	s.mu.Lock()
	s.tokens[tok] = &token{expires: exp, client: client, subject: subject}
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	return tok, exp
}

// bearer returns the live token of r, or "" after answering 401.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) string {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if ok {
		s.mu.Lock()
		t := s.tokens[tok]
		s.mu.Unlock()
		if t != nil && time.Now().Before(t.expires) {
			return tok
		}
	}
	if strings.HasPrefix(r.URL.Path, "/JSSResource/") {
		writeClassicError(w, http.StatusUnauthorized, "The request requires user authentication")
	} else {
		writeAPIError(w, http.StatusUnauthorized, "INVALID_TOKEN", "Unauthorized")
	}
	return ""
}

// authed wraps a handler that needs a live bearer token.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, tok string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if tok := s.bearer(w, r); tok != "" {
			h(w, r, tok)
		}
	}
}

// handler is a Jamf endpoint that has passed authentication.
type handler func(w http.ResponseWriter, r *http.Request, tok string)

// always is the presence test of an endpoint every simulated server has.
func always() bool { return true }

// api registers a Jamf Pro API operation. One this server lacks (present
// false: an older version, or the deprecated JCDS endpoints removed)
// answers like any unknown path; then a live token is needed, then the
// privileges of the operation's x-required-privileges.
func (s *Server) api(mux *http.ServeMux, pattern string, present func() bool, n need, h handler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !present() {
			writeNotFound(w)
			return
		}
		tok := s.bearer(w, r)
		switch {
		case tok == "":
		case !s.allowed(tok, n):
			writeForbidden(w)
		default:
			h(w, r, tok)
		}
	})
}

// classic registers a Classic API operation: a live token, then the
// privileges, each refused with the Classic API's HTML status page.
func (s *Server) classic(mux *http.ServeMux, pattern string, n need, h handler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		tok := s.bearer(w, r)
		switch {
		case tok == "":
		case !s.allowed(tok, n):
			writeClassicForbidden(w)
		default:
			h(w, r, tok)
		}
	})
}

// ExpireTokens makes every current token expire now.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expires = time.Now().Add(-time.Second)
	}
}

// LiveTokens counts tokens not yet expired or invalidated.
func (s *Server) LiveTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tokens {
		if time.Now().Before(t.expires) {
			n++
		}
	}
	return n
}

func (s *Server) routeAuth(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/auth/token", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || s.cfg.Users[user] == "" || s.cfg.Users[user] != pass {
			writeAPIError(w, http.StatusUnauthorized, "INVALID_CREDENTIALS", "Unauthorized")
			return
		}
		tok, exp := s.newToken(false, user)
		writeJSON(w, 200, map[string]any{"token": tok, "expires": exp.UTC().Format("2006-01-02T15:04:05.000Z")})
	})
	oauth := func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			writeJSON(w, 400, map[string]any{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials", "error_uri": "https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"})
			return
		}
		id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		if s.cfg.Clients[id] == "" || s.cfg.Clients[id] != secret {
			writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "Client authentication failed", "error_uri": "https://datatracker.ietf.org/doc/html/rfc6749#section-5.2"})
			return
		}
		tok, _ := s.newToken(true, id)
		writeJSON(w, 200, map[string]any{"access_token": tok, "token_type": "Bearer", "scope": "api-role:1", "expires_in": int(s.cfg.TokenLifetime / time.Second)})
	}
	mux.HandleFunc("POST /api/v1/oauth/token", oauth)
	mux.HandleFunc("POST /api/oauth/token", oauth)
	mux.HandleFunc("POST /api/v1/auth/keep-alive", s.authed(func(w http.ResponseWriter, r *http.Request, tok string) {
		s.mu.Lock()
		old := s.tokens[tok]
		delete(s.tokens, tok)
		s.mu.Unlock()
		nt, exp := s.newToken(old.client, old.subject)
		s.mu.Lock()
		if sess := s.sessions[tok]; sess != nil {
			s.sessions[nt] = sess // keep-alive keeps the upload session
		}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"token": nt, "expires": exp.UTC().Format("2006-01-02T15:04:05.000Z")})
	}))
	mux.HandleFunc("POST /api/v1/auth/invalidate-token", s.authed(func(w http.ResponseWriter, r *http.Request, tok string) {
		s.mu.Lock()
		delete(s.tokens, tok)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	s.api(mux, "GET /api/v1/auth", always, need{}, s.handleAuthDetails)
	s.api(mux, "GET /api/v1/jamf-pro-version", always, need{}, func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, 200, map[string]any{"version": s.cfg.Version + "-t1785446884863"})
	})
}

// handleAuthDetails is GET /api/v1/auth (AuthorizationV1): the account
// and, in privilegesBySite, what its role grants ("-1": no site). An
// account with every privilege is an ADMINISTRATOR, one with a role
// CUSTOM. API clients authenticate as CLIENT_CREDENTIALS.
func (s *Server) handleAuthDetails(w http.ResponseWriter, r *http.Request, tok string) {
	s.mu.Lock()
	t := s.tokens[tok]
	s.mu.Unlock()
	privs, all := s.privilegeList(tok)
	set, authType := "CUSTOM", "JSS"
	if all {
		set = "ADMINISTRATOR"
	}
	if t.client {
		authType = "CLIENT_CREDENTIALS"
	}
	writeJSON(w, 200, map[string]any{
		"account": map[string]any{"id": "1", "username": t.subject, "realName": t.subject, "email": "",
			"preferences": map[string]any{"language": "en", "dateFormat": "MM/dd/yyyy", "region": "Europe", "timezone": "UTC", "disableRelativeDates": false},
			"groupIds":    []string{}, "multiSiteAdmin": true, "accessLevel": "FullAccess", "privilegeSet": set,
			"privilegesBySite": map[string][]string{"-1": privs}, "currentSiteId": "-1"},
		"accountGroups": []any{}, "sites": []any{}, "authenticationType": authType,
	})
}
