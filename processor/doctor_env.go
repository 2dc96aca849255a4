package processor

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

var smbPasswordVar = regexp.MustCompile(`^SMB\d*_PASSWORD$`)

// CLIEnv builds an env from the sources the pkg command reads, in its
// precedence: the prefs plist (prefs, "" for none) < the environment
// variables pkg reads < flag values (input name -> value, "" meaning not
// given) < --key KEY=VALUE pairs. It is for commands beside pkg (doctor)
// that must see exactly the env a pkg run would: the prefs reader and the
// list of environment variables are pkg's own, not copies.
func CLIEnv(prefs string, flags map[string]string, keys []string) (Env, error) {
	env := Env{}
	if prefs != "" {
		p, err := readPrefs(prefs)
		if err != nil {
			return nil, err
		}
		for k, v := range p {
			env[k] = v
		}
	}
	for _, k := range envFromOS {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			env[k] = v
		}
	}
	// File-share passwords (SMB_PASSWORD, SMB2_PASSWORD ...) come from the
	// environment too, since --key refuses them.
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); smbPasswordVar.MatchString(k) && v != "" {
			env[k] = v
		}
	}
	for k, v := range flags {
		if v != "" {
			env[k] = v
		}
	}
	for _, kv := range keys {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, &UsageError{fmt.Sprintf("--key %q is not KEY=VALUE: write it as --key max_tries=3", kv)}
		}
		if IsSecretKey(k) {
			// The value is never echoed: it is the secret.
			return nil, &UsageError{fmt.Sprintf("--key %s=... is refused: secrets never come from the command line (ps and the shell history show them); export %s, put it in the --prefs file, or on macOS in the login keychain", k, k)}
		}
		env[k] = v
	}
	return env, nil
}
