package processor

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// NotImplementedError is an input JamfPackageUploader honours and we do
// not, set to something other than its default: the run stops before
// any request, since carrying on would do something else than the
// recipe asks without a word.
type NotImplementedError struct {
	Input, Reason string
	Value         any
}

func (e *NotImplementedError) Error() string {
	return fmt.Sprintf("%s is set to %s, which JCDS2PackageUploader does not implement (%s): remove %s, or leave it at its default, to run; nothing was changed",
		e.Input, describe(e.Value), e.Reason, e.Input)
}

// CheckNotImplemented fails on the first input in env that the manifest
// marks Unsupported and that holds a value other than its default.
func CheckNotImplemented(env Env) error {
	for _, in := range Inputs {
		if in.Unsupported == "" {
			continue
		}
		if v, ok := env[in.Name]; ok && !isEmptyish(v) {
			return &NotImplementedError{Input: in.Name, Reason: in.Unsupported, Value: v}
		}
	}
	return nil
}

// The keychain lookup is JamfUploader's (JamfUploaderBase.keychain_get_creds):
// an internet password whose server is JSS_URL, whose account is the API
// client ID (else the user name) and whose label is "<host> (<account>)",
// read with /usr/bin/security. Variables so a test can stand in for macOS
// and for the tool; production code never changes them.
var (
	keychainOS   = runtime.GOOS
	securityPath = "/usr/bin/security"
)

// keychainTimeout bounds the security call: a locked keychain may ask
// the user to unlock it, and a run must not wait for that forever.
const keychainTimeout = 30 * time.Second

// fillFromKeychain sets the missing secret (CLIENT_SECRET for CLIENT_ID,
// else API_PASSWORD for API_USERNAME) from the login keychain, on macOS
// only, when the env (AutoPkg's preferences, the recipe, the process
// environment) gave none and no BEARER_TOKEN is set. What it reads is
// registered with log before anything else happens, so it is scrubbed
// from every line; it is never printed.
func fillFromKeychain(ctx context.Context, env Env, log *Logger) {
	if keychainOS != "darwin" {
		return
	}
	has := func(k string) bool { s, _ := env[k].(string); return strings.TrimSpace(s) != "" }
	if has("BEARER_TOKEN") {
		return
	}
	var account, secretKey string
	switch {
	case has("CLIENT_ID") && !has("CLIENT_SECRET"):
		account, secretKey = env["CLIENT_ID"].(string), "CLIENT_SECRET"
	case !has("CLIENT_ID") && has("API_USERNAME") && !has("API_PASSWORD"):
		account, secretKey = env["API_USERNAME"].(string), "API_PASSWORD"
	default:
		return
	}
	server, _ := env["JSS_URL"].(string)
	server = strings.TrimRight(strings.TrimSpace(server), "/")
	u, err := url.Parse(server)
	if server == "" || err != nil || u.Host == "" {
		return // BuildRequest names what is wrong with JSS_URL
	}
	label := fmt.Sprintf("%s (%s)", u.Host, account)
	ctx, cancel := context.WithTimeout(ctx, keychainTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, securityPath, "find-internet-password", "-s", server, "-a", account, "-l", label, "-w")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout // stderr is not kept: it may echo the item
	if err := cmd.Run(); err != nil {
		log.Logf(1, "No %s in the keychain for server %s, account %s, label %q (security: %v).", secretKey, server, account, label, exitReason(err))
		return
	}
	secret := strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return -1 // as JamfUploader's remove_non_printable
		}
		return r
	}, stdout.String())
	if secret == "" {
		return
	}
	log.Secret(secret)
	env[secretKey] = secret
	log.Logf(1, "%s for %s read from the login keychain (label %q).", secretKey, account, label)
}

// exitReason names how the security tool ended, never what it printed.
func exitReason(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// UseKeychainTool makes the keychain lookup act as on goos with the
// security tool at path. It is for tests, which stand in for macOS.
func UseKeychainTool(goos, path string) { keychainOS, securityPath = goos, path }
