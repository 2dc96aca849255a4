package jamfsim

import (
	"encoding/json"
	"strings"
	"testing"
)

func renew(t *testing.T, c *client, fx map[string]endpoint) map[string]any {
	t.Helper()
	st, body, _ := c.do("POST", "/api/v1/jcds/renew-credentials", nil)
	check(t, fx, "POST /v1/jcds/renew-credentials", st, body)
	var cr map[string]any
	json.Unmarshal(body, &cr)
	return cr
}

// By default renewal answers the upload's own path.
func TestRenewalKeepsThePath(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{})
	c := login(t, s)
	cr := newUpload(t, c, fx)
	re := renew(t, c, fx)
	if re["path"] != cr["path"] || re["accessKeyID"] == cr["accessKeyID"] {
		t.Fatalf("renewed %v from %v", re, cr)
	}
	if err := put(t, s, re, cr["path"].(string)+"R.pkg", []byte("renewed")); err != nil {
		t.Fatal(err)
	}
}

// With RenewNewPath the answer names another path, but the renewed
// credentials write only under the original one, where the upload goes
// on (MinIO enforces the session policy).
func TestRenewalWithANewPath(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{RenewNewPath: true})
	c := login(t, s)
	cr := newUpload(t, c, fx)
	re := renew(t, c, fx)
	if re["path"] == cr["path"] || re["uuid"] == cr["uuid"] || !strings.HasPrefix(re["path"].(string), "tmp/") {
		t.Fatalf("RenewNewPath should answer a new path: %v vs %v", re["path"], cr["path"])
	}
	if err := put(t, s, re, cr["path"].(string)+"Kept.pkg", []byte("original key")); err != nil {
		t.Fatalf("the original key must accept the renewed credentials: %v", err)
	}
	if err := put(t, s, re, re["path"].(string)+"Moved.pkg", []byte("new key")); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("the answered path is not writable: %v", err)
	}
}
