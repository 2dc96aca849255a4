package jamf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/cachefile"
)

// tokenSource holds the bearer token and renews it before it expires, so
// a two-hour upload never meets a 401.
type tokenSource struct {
	c     *Client
	creds Credentials

	mu      sync.Mutex
	token   string
	expires time.Time
	life    time.Duration
	minted  bool // we minted it, so we invalidate it at the end
	checked bool // a given BEARER_TOKEN was checked with GET /api/v1/auth
	cache   string
}

func newTokenSource(c *Client, creds Credentials, cacheDir string) *tokenSource {
	t := &tokenSource{c: c, creds: creds}
	t.enableCache(cacheDir)
	return t
}

// given reports a token handed in (BEARER_TOKEN): it cannot be renewed.
func (t *tokenSource) given() bool { return t.creds.BearerToken != "" }

// Token lifetimes believed: an expiry in the past (a skewed clock)
// would mint a token before every request, and one absurdly far off
// would never renew; Jamf issues tokens for minutes to hours.
const (
	minTokenLife = time.Minute
	maxTokenLife = 24 * time.Hour
)

// margin is how long before expiry a token is renewed.
func (t *tokenSource) margin() time.Duration {
	return min(max(30*time.Second, t.life/10), t.life/3)
}

// Token returns a live token, minting or renewing as needed.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.creds.BearerToken != "" {
		if !t.checked {
			if err := t.checkGiven(ctx); err != nil {
				return "", err
			}
		}
		return t.creds.BearerToken, nil
	}
	if t.token != "" && time.Until(t.expires) > t.margin() {
		return t.token, nil
	}
	if t.token != "" && t.creds.ClientID == "" && time.Until(t.expires) > 5*time.Second {
		// A user token can be extended; an API client token is minted again.
		if err := t.keepAlive(ctx); err == nil {
			return t.token, nil
		}
	}
	if err := t.mint(ctx); err != nil {
		return "", err
	}
	return t.token, nil
}

// invalidateLocal forgets the token a request was refused with. Only
// that one: when requests in flight together are refused at once, the
// first to get here mints a new token, and the others use it instead
// of minting one each (which would leave all but the last live on the
// server, never invalidated).
func (t *tokenSource) invalidateLocal(refused string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != refused {
		return
	}
	t.token = ""
	if t.cache != "" {
		cachefile.Remove(t.cache)
	}
}

func (t *tokenSource) set(token string, expires time.Time) {
	t.c.log.Secret(token)
	life := time.Until(expires)
	if life <= 0 {
		life = minTokenLife // an expiry already past: a skewed clock, believe a minute
	}
	life = min(life, maxTokenLife)
	t.token, t.expires, t.life, t.minted = token, time.Now().Add(life), life, true
}

func (t *tokenSource) checkGiven(ctx context.Context) error {
	t.c.log.Secret(t.creds.BearerToken)
	_, err := t.c.raw.do(ctx, &call{method: "GET", path: "/api/v1/auth", bearer: t.creds.BearerToken})
	if err != nil {
		if IsStatus(err, 401) {
			return &AuthError{Method: AuthToken, Refused: true, Err: errors.New("the bearer token was refused by Jamf Pro (expired or invalid): mint a new one, or use an API client instead")}
		}
		return &AuthError{Method: AuthToken, Err: fmt.Errorf("checking the bearer token: %w", err)}
	}
	t.checked = true
	return nil
}

func (t *tokenSource) mint(ctx context.Context) error {
	if t.loadCache() {
		return nil
	}
	if t.creds.ClientID != "" {
		return t.mintOAuth(ctx)
	}
	var out struct {
		Token   string `json:"token"`
		Expires string `json:"expires"`
	}
	a, err := t.c.raw.do(ctx, &call{method: "POST", path: "/api/v1/auth/token", basic: [2]string{t.creds.Username, t.creds.Password}})
	if err != nil {
		if IsStatus(err, 401) {
			return &AuthError{Method: AuthPassword, Refused: true, Err: fmt.Errorf("Jamf Pro refused user %q and its password (401): check both, and that the account is enabled", t.creds.Username)}
		}
		return &AuthError{Method: AuthPassword, Err: fmt.Errorf("getting a token for user %q: %w", t.creds.Username, err)}
	}
	if err := decodeJSON(a.body, &out, "POST /api/v1/auth/token"); err != nil {
		return err
	}
	exp, err := time.Parse(time.RFC3339, out.Expires)
	if out.Token == "" || err != nil {
		return fmt.Errorf("POST /api/v1/auth/token: the answer has no usable token or expiry: check that the Jamf Pro URL points at Jamf Pro")
	}
	t.set(out.Token, exp)
	t.saveCache()
	return nil
}

func (t *tokenSource) mintOAuth(ctx context.Context) error {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {t.creds.ClientID},
		"client_secret": {t.creds.ClientSecret},
	}.Encode()
	rq := &call{method: "POST", path: "/api/v1/oauth/token", body: []byte(form), contentType: "application/x-www-form-urlencoded"}
	a, err := t.c.raw.do(ctx, rq)
	if IsStatus(err, 404) {
		// Servers before the v1 path have only /api/oauth/token.
		rq.path = "/api/oauth/token"
		a, err = t.c.raw.do(ctx, rq)
	}
	if err != nil {
		if IsStatus(err, 400, 401) {
			return &AuthError{Method: AuthClient, Refused: true, Err: fmt.Errorf("Jamf Pro refused API client %q and its secret: check both, and that the API client is enabled (%w)", t.creds.ClientID, err)}
		}
		return &AuthError{Method: AuthClient, Err: fmt.Errorf("getting a token for API client %q: %w", t.creds.ClientID, err)}
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := decodeJSON(a.body, &out, "POST "+rq.path); err != nil {
		return err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return fmt.Errorf("POST %s: the answer has no usable access_token or expires_in: check that the Jamf Pro URL points at Jamf Pro", rq.path)
	}
	t.set(out.AccessToken, time.Now().Add(time.Duration(out.ExpiresIn)*time.Second))
	t.saveCache()
	return nil
}

func (t *tokenSource) keepAlive(ctx context.Context) error {
	var out struct {
		Token   string `json:"token"`
		Expires string `json:"expires"`
	}
	a, err := t.c.raw.do(ctx, &call{method: "POST", path: "/api/v1/auth/keep-alive", bearer: t.token})
	if err != nil {
		return err
	}
	if err := decodeJSON(a.body, &out, "POST /api/v1/auth/keep-alive"); err != nil {
		return err
	}
	exp, err := time.Parse(time.RFC3339, out.Expires)
	if out.Token == "" || err != nil {
		return errors.New("keep-alive answer has no token")
	}
	t.set(out.Token, exp)
	t.saveCache()
	return nil
}

// Close invalidates a token this run minted, unless it is shared
// through the cache with later processors of the same recipe run.
func (t *tokenSource) Close(ctx context.Context) {
	t.mu.Lock()
	tok, minted, cached := t.token, t.minted, t.cache != ""
	t.mu.Unlock()
	if tok == "" || !minted || cached {
		return
	}
	// Invalidating runs even after ctx ended (an interrupt), on 10 s of
	// its own; a shorter deadline the caller set still holds.
	limit := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok && ctx.Err() == nil {
		limit = min(limit, time.Until(dl))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	if _, err := t.c.raw.do(ctx, &call{method: "POST", path: "/api/v1/auth/invalidate-token", bearer: tok, expect: []int{204, 200, 401}}); err != nil {
		t.c.log.Logf(2, "Could not invalidate the token: %v", err)
	}
}

// The token cache lets the processors of one recipe run share a token
// (jcds2_reuse_auth). The file is 0600 and named by a hash of the server
// and the account, never by the secret. It is read only when it is ours
// (package cachefile): a token planted by another user in a shared
// RECIPE_CACHE_DIR, or a named pipe there, is ignored with a line at
// verbose 1 and a token is minted (and saved over it, when the folder is
// ours).
type cachedToken struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

func (t *tokenSource) enableCache(dir string) {
	if t.creds.BearerToken != "" {
		return
	}
	if dir == "" {
		return
	}
	h := sha256.Sum256([]byte(t.c.base + "\x00" + t.creds.ClientID + "\x00" + t.creds.Username))
	t.cache = filepath.Join(dir, "jcds2-uploader-token-"+hex.EncodeToString(h[:8])+".json")
}

func (t *tokenSource) loadCache() bool {
	if t.cache == "" {
		return false
	}
	data, err := cachefile.Read(t.cache, maxTokenFile)
	if err != nil {
		t.c.log.Logf(1, "Token cache: %s; getting a new token", strings.TrimPrefix(err.Error(), "ignoring the cache file "))
		return false
	}
	if data == nil {
		return false
	}
	var ct cachedToken
	if json.Unmarshal(data, &ct) != nil || ct.Token == "" {
		t.c.log.Logf(1, "Token cache: %s is not a token cache; getting a new token", t.cache)
		return false
	}
	t.c.log.Secret(ct.Token)
	if time.Until(ct.Expires) < 2*time.Minute {
		return false
	}
	t.token, t.expires, t.life, t.minted = ct.Token, ct.Expires, time.Until(ct.Expires), true
	t.c.log.Logf(2, "Reusing the cached token (valid until %s)", ct.Expires.Format(time.RFC3339))
	return true
}

func (t *tokenSource) saveCache() {
	if t.cache == "" {
		return
	}
	data, _ := json.Marshal(cachedToken{Token: t.token, Expires: t.expires})
	// A fresh, exclusively created temp file (never a predictable name a
	// planted symlink could redirect), then an atomic rename.
	if err := cachefile.Write(t.cache, data); err != nil {
		t.c.log.Logf(1, "Token cache: not saved (%v)", err)
	}
}

// maxTokenFile bounds the token cache file: ours holds one token.
const maxTokenFile = 64 << 10

// AuthMethod is how the client authenticates.
type AuthMethod int

const (
	AuthPassword AuthMethod = iota // user and password
	AuthClient                     // API client id and secret
	AuthToken                      // a given bearer token
)

// AuthError is a failure to authenticate; Refused means the server said
// no to these credentials (not a network or server fault). The edge
// names the inputs that hold them.
type AuthError struct {
	Method  AuthMethod
	Refused bool
	Err     error
}

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// Method reports which credentials opts would use.
func (c Credentials) Method() AuthMethod {
	switch {
	case c.BearerToken != "":
		return AuthToken
	case c.ClientID != "":
		return AuthClient
	}
	return AuthPassword
}

func (t *tokenSource) remaining() time.Duration {
	if t.creds.BearerToken != "" {
		return 0
	}
	return time.Until(t.expires)
}
