package processor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keychainItem is one internet password in a fake login keychain.
type keychainItem struct{ server, account, label, secret string }

// fakeSecurity stands in for /usr/bin/security with a keychain holding
// items: it answers find-internet-password as the tool does (-s, -a, -l
// narrowing the search; -w printing the password, else the attributes),
// records its arguments, and exits 44, as the tool does, for an item it
// cannot find.
func fakeSecurity(t *testing.T, items ...keychainItem) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := `#!/bin/sh
printf '%s\n' "$*" >> ` + argsFile + `
[ "$1" = find-internet-password ] || exit 1
shift
s= a= l= w=
while [ $# -gt 0 ]; do
	case "$1" in
	-s) s="$2"; shift 2 ;;
	-a) a="$2"; shift 2 ;;
	-l) l="$2"; shift 2 ;;
	-w) w=1; shift ;;
	*) exit 1 ;;
	esac
done
found() {
	[ "$s" = "$1" ] && { [ -z "$a" ] || [ "$a" = "$2" ]; } && { [ -z "$l" ] || [ "$l" = "$3" ]; } || return 1
	if [ -n "$w" ]; then printf '%s\n' "$4"; else printf 'keychain: "/Users/me/Library/Keychains/login.keychain-db"\nclass: "inet"\nattributes:\n    0x00000007 <blob>="%s"\n    "acct"<blob>="%s"\n    "srvr"<blob>="x"\n' "$3" "$2"; fi
	exit 0
}
`
	for _, it := range items {
		script += fmt.Sprintf("found '%s' '%s' '%s' '%s'\n", it.server, it.account, it.label, it.secret)
	}
	script += `echo "security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain." >&2
exit 44
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
	fakeSecurity(t, keychainItem{"https://example.jamfcloud.com", "client-1", "example.jamfcloud.com (client-1)", secret})
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
	fakeSecurity(t, keychainItem{"https://example.jamfcloud.com", "autopkg", "example.jamfcloud.com (autopkg)", secret})
	env = Env{"JSS_URL": "https://example.jamfcloud.com", "API_USERNAME": "autopkg"}
	fillFromKeychain(context.Background(), env, NewLogger(&logged, 0))
	if env["API_PASSWORD"] != secret {
		t.Fatalf("API_PASSWORD = %v", env["API_PASSWORD"])
	}
}

func TestKeychainIsOnlyTheLastResort(t *testing.T) {
	args := fakeSecurity(t, keychainItem{"https://example.jamfcloud.com", "client-1", "example.jamfcloud.com (client-1)", "kc"})
	for _, env := range []Env{
		{"JSS_URL": "https://example.jamfcloud.com", "CLIENT_ID": "client-1", "CLIENT_SECRET": "from-prefs"},
		{"JSS_URL": "https://example.jamfcloud.com", "CLIENT_ID": "client-1", "BEARER_TOKEN": "tok"},
		{"JSS_URL": "https://example.jamfcloud.com", "API_USERNAME": "autopkg", "API_PASSWORD": "from-env"},
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

// With no account given, JamfUploader's convention takes the account of
// the first internet password for the server; a UUID is an API client.
func TestKeychainFindsTheAccount(t *testing.T) {
	const id, secret = "3D5B9B8A-0C6E-4F57-A2A1-8C0E5C2F0A11", "kc-client-secret-42"
	fakeSecurity(t, keychainItem{"https://example.jamfcloud.com", id, "example.jamfcloud.com (" + id + ")", secret})
	env := Env{"JSS_URL": "https://example.jamfcloud.com"}
	fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
	if env["CLIENT_ID"] != id || env["CLIENT_SECRET"] != secret || env["API_USERNAME"] != nil {
		t.Fatalf("env: %v", env)
	}

	// A user name is a user; an item stored without the label is found too.
	fakeSecurity(t, keychainItem{"https://example.jamfcloud.com", "autopkg", "", "pw-from-keychain"})
	env = Env{"JSS_URL": "https://example.jamfcloud.com"}
	fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
	if env["API_USERNAME"] != "autopkg" || env["API_PASSWORD"] != "pw-from-keychain" || env["CLIENT_ID"] != nil {
		t.Fatalf("env: %v", env)
	}

	// A UUID given as the user name is an API client, as in JamfUploader.
	fakeSecurity(t, keychainItem{"https://example.jamfcloud.com", id, "example.jamfcloud.com (" + id + ")", secret})
	env = Env{"JSS_URL": "https://example.jamfcloud.com", "API_USERNAME": id}
	fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
	if env["CLIENT_ID"] != id || env["CLIENT_SECRET"] != secret || env["API_PASSWORD"] != nil {
		t.Fatalf("env: %v", env)
	}

	// Nothing for the server: the env stays as it was.
	env = Env{"JSS_URL": "https://other.example.com"}
	fillFromKeychain(context.Background(), env, NewLogger(&strings.Builder{}, 0))
	if len(env) != 1 {
		t.Fatalf("env: %v", env)
	}
}
