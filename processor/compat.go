package processor

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
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

// The keychain lookup is JamfUploader's (JamfUploaderBase.keychain_get_creds,
// as its README tells admins to store credentials): an internet password
// whose server is JSS_URL, whose account is the API client ID (else the
// user name) and whose label is "<host> (<account>)", read with
// /usr/bin/security. With neither a client ID nor a user name, the
// account is that of the first internet password for the server, and an
// account that is a UUID is an API client ID (JamfUploader's
// is_valid_uuid). Variables so a test can stand in for macOS and for the
// tool; production code never changes them.
var (
	keychainOS   = runtime.GOOS
	securityPath = "/usr/bin/security"
)

// keychainTimeout bounds each security call: a locked keychain may ask
// the user to unlock it, and a run must not wait for that forever.
const keychainTimeout = 30 * time.Second

// fillFromKeychain sets the missing secret (CLIENT_SECRET for CLIENT_ID,
// else API_PASSWORD for API_USERNAME, else both the account and its
// secret) from the login keychain, on macOS only, when the env
// (AutoPkg's preferences, the recipe, the process environment) gave none
// and no BEARER_TOKEN is set. What it reads is registered with log
// before anything else happens, so it is scrubbed from every line; it is
// never printed.
func fillFromKeychain(ctx context.Context, env Env, log *Logger) {
	if keychainOS != "darwin" {
		return
	}
	has := func(k string) bool { s, _ := env[k].(string); return strings.TrimSpace(s) != "" }
	if has("BEARER_TOKEN") {
		return
	}
	server, _ := env["JSS_URL"].(string)
	server = strings.TrimRight(strings.TrimSpace(server), "/")
	u, err := url.Parse(server)
	if server == "" || err != nil || u.Host == "" {
		return // BuildRequest names what is wrong with JSS_URL
	}
	var account string
	fromKeychain := false
	switch {
	case has("CLIENT_ID"):
		if has("CLIENT_SECRET") {
			return
		}
		account = env["CLIENT_ID"].(string)
	case has("API_USERNAME"):
		if has("API_PASSWORD") {
			return
		}
		account = env["API_USERNAME"].(string)
	default:
		if account = keychainAccount(ctx, server); account == "" {
			log.Logf(1, "No credentials given, and no internet password for server %s in the keychain.", server)
			return
		}
		fromKeychain = true
	}
	label := fmt.Sprintf("%s (%s)", u.Host, account)
	secret, err := security(ctx, "find-internet-password", "-s", server, "-a", account, "-l", label, "-w")
	if err != nil {
		// Items stored before JamfUploader added the label have none.
		secret, err = security(ctx, "find-internet-password", "-s", server, "-a", account, "-w")
	}
	secret = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return -1 // as JamfUploader's remove_non_printable
		}
		return r
	}, secret)
	if err != nil || secret == "" {
		log.Logf(1, "No secret in the keychain for server %s, account %s, label %q (security: %v).", server, account, label, exitReason(err))
		return
	}
	log.Secret(secret)
	accountKey, secretKey := "API_USERNAME", "API_PASSWORD"
	if has("CLIENT_ID") || isUUID(account) {
		accountKey, secretKey = "CLIENT_ID", "CLIENT_SECRET"
	}
	if fromKeychain || !has(accountKey) {
		env[accountKey] = account
	}
	env[secretKey] = secret
	log.Logf(1, "%s for %s read from the login keychain (server %s).", secretKey, account, server)
}

// FillFromKeychain is the same lookup for commands that build their env
// beside a run (doctor), so that they judge the credentials a run uses.
func FillFromKeychain(ctx context.Context, env Env, log *Logger) { fillFromKeychain(ctx, env, log) }

// keychainAccount is the account of the first internet password for
// server, from the item's attributes (security prints them on stdout,
// and the password only with -g, which is not given).
func keychainAccount(ctx context.Context, server string) string {
	out, err := security(ctx, "find-internet-password", "-s", server)
	if err != nil {
		return ""
	}
	if m := acctAttribute.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}

var acctAttribute = regexp.MustCompile(`(?m)^\s*"acct"<blob>="([^"]+)"\s*$`)

// security runs the security tool and returns its stdout; its stderr is
// not kept, since it may echo the item.
func security(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, keychainTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, securityPath, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	err := cmd.Run()
	return stdout.String(), err
}

// isUUID says whether s is a UUID, as API client IDs are.
func isUUID(s string) bool { return uuidPattern.MatchString(s) }

var uuidPattern = regexp.MustCompile(`^(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)

// exitReason names how the security tool ended, never what it printed.
func exitReason(err error) string {
	if err == nil {
		return "an empty answer"
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// UseKeychainTool makes the keychain lookup act as on goos with the
// security tool at path. It is for tests, which stand in for macOS.
func UseKeychainTool(goos, path string) { keychainOS, securityPath = goos, path }
