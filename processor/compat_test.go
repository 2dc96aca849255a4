package processor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSecurity stands in for /usr/bin/security: it answers the one query
// JamfUploader's convention makes (server, account and label as given)
// and records its arguments; anything else exits 44, as the tool does
// for an item it cannot find.
func fakeSecurity(t *testing.T, server, account, label, secret string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := `#!/bin/sh
printf '%s\n' "$@" > ` + argsFile + `
[ "$1" = find-internet-password ] && [ "$2" = -s ] && [ "$3" = '` + server + `' ] && [ "$4" = -a ] && [ "$5" = '` + account + `' ] &&
[ "$6" = -l ] && [ "$7" = '` + label + `' ] && [ "$8" = -w ] || { echo "security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain." >&2; exit 44; }
printf '%s\n' '` + secret + `'
`
	path := filepath.Join(dir, "security")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	oldOS, oldPath := keychainOS, securityPath
	keychainOS, securityPath = "darwin", path
	t.Cleanup(func() { keychainOS, securityPath = oldOS, oldPath })
	return argsFile
}

func TestKeychainFillsTheMissingSecret(t *testing.T) {
	const secret = "kc-secret-0123456789"
	fakeSecurity(t, "https://example.jamfcloud.com", "client-1", "example.jamfcloud.com (client-1)", secret)
	var logged strings.Builder
	log := NewLogger(&logged, 3)
	env := Env{"JSS_URL": "https://example.jamfcloud.com/", "CLIENT_ID": "client-1"}
	fillFromKeychain(context.Background(), env, log)
	if env["CLIENT_SECRET"] != secret {
		t.Fatalf("CLIENT_SECRET = %v", env["CLIENT_SECRET"])
	}
	log.Logf(0, "echo %s", secret)
	if strings.Contains(logged.String(), secret) || !strings.Contains(logged.String(), "read from the login keychain") {
		t.Fatalf("log:\n%s", logged.String())
	}

	// A user name is the account when there is no client ID.
	fakeSecurity(t, "https://example.jamfcloud.com", "autopkg", "example.jamfcloud.com (autopkg)", secret)
	env = Env{"JSS_URL": "https://example.jamfcloud.com", "API_USERNAME": "autopkg"}
	fillFromKeychain(context.Background(), env, NewLogger(&logged, 0))
	if env["API_PASSWORD"] != secret {
		t.Fatalf("API_PASSWORD = %v", env["API_PASSWORD"])
	}
}

func TestKeychainIsOnlyTheLastResort(t *testing.T) {
	args := fakeSecurity(t, "https://example.jamfcloud.com", "client-1", "example.jamfcloud.com (client-1)", "kc")
	for _, env := range []Env{
		{"JSS_URL": "https://example.jamfcloud.com", "CLIENT_ID": "client-1", "CLIENT_SECRET": "from-prefs"},
		{"JSS_URL": "https://example.jamfcloud.com", "CLIENT_ID": "client-1", "BEARER_TOKEN": "tok"},
		{"JSS_URL": "https://example.jamfcloud.com"},
	} {
		before := len(env)
		fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
		if len(env) != before || env["CLIENT_SECRET"] == "kc" {
			t.Fatalf("env changed: %v", env)
		}
	}
	if _, err := os.Stat(args); err == nil {
		t.Fatal("security was run although the env had what it needed")
	}
	// Not on macOS: never asked.
	keychainOS = "linux"
	env := Env{"JSS_URL": "https://example.jamfcloud.com", "CLIENT_ID": "client-1"}
	fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
	if _, ok := env["CLIENT_SECRET"]; ok {
		t.Fatal("keychain read off macOS")
	}
	// Not found: the env stays without it, and BuildRequest names it.
	keychainOS = "darwin"
	env = Env{"JSS_URL": "https://other.example.com", "CLIENT_ID": "client-1"}
	fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
	if _, ok := env["CLIENT_SECRET"]; ok {
		t.Fatal("a secret for another server")
	}
}
