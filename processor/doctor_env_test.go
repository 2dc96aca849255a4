package processor

import (
	"errors"
	"strings"
	"testing"
)

// The secrets --key refuses come from the environment instead, as the
// refusal says: the API credentials and the file shares' passwords.
func TestCLIEnvTakesSecretsFromTheEnvironmentOnly(t *testing.T) {
	t.Setenv("CLIENT_SECRET", "env-client-secret")
	t.Setenv("SMB_PASSWORD", "env-smb-1")
	t.Setenv("SMB2_PASSWORD", "env-smb-2")
	t.Setenv("GITHUB_TOKEN", "not-an-input")
	env, err := CLIEnv("", map[string]string{"JSS_URL": "https://example.jamfcloud.com"}, []string{"SMB_URL=smb://files.example.com/share"})
	if err != nil {
		t.Fatal(err)
	}
	if env["CLIENT_SECRET"] != "env-client-secret" || env["SMB_PASSWORD"] != "env-smb-1" || env["SMB2_PASSWORD"] != "env-smb-2" {
		t.Fatalf("env: %v", env)
	}
	if _, ok := env["GITHUB_TOKEN"]; ok {
		t.Fatal("an environment variable that is no input was taken")
	}
	for _, kv := range []string{"SMB2_PASSWORD=hunter2", "CLIENT_SECRET=hunter2", "BEARER_TOKEN=hunter2"} {
		_, err := CLIEnv("", nil, []string{kv})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "is refused") || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("--key %s: %v", kv, err)
		}
	}
}
