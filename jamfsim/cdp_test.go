package jamfsim

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func cdnTypeOf(t *testing.T, c *client, fx map[string]endpoint) string {
	t.Helper()
	st, body, _ := c.do("GET", "/api/v1/cloud-distribution-point", nil)
	check(t, fx, "GET /v1/cloud-distribution-point", st, body)
	var cdp struct{ CdnType string }
	json.Unmarshal(body, &cdp)
	return cdp.CdnType
}

// A JCDS server's cloud distribution point is Jamf Cloud.
func TestJamfCloudDistributionPoint(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{})
	c := login(t, s)
	if got := cdnTypeOf(t, c, fx); got != "JAMF_CLOUD" {
		t.Fatalf("cdnType %q", got)
	}
	st, body, _ := c.do("GET", "/api/v1/cloud-distribution-point/upload-capability", nil)
	check(t, fx, "GET /v1/cloud-distribution-point/upload-capability", st, body)
	if !strings.Contains(string(body), `"directUploadCapable" : true`) {
		t.Fatalf("upload capability: %s", body)
	}
	id := c.createPackage("Inv", "Inv.pkg", "")
	c.uploadFile(id, "Inv.pkg", []byte("inventory"))
	st, body, _ = c.do("GET", "/api/v1/cloud-distribution-point/files?filter="+url.QueryEscape(`fileName=="Inv.pkg"`), nil)
	check(t, fx, "GET /v1/cloud-distribution-point/files", st, body)
	if !strings.Contains(string(body), `"status" : "READY"`) || !strings.Contains(string(body), `"type" : "PACKAGE"`) {
		t.Fatalf("inventory files: %s", body)
	}
}

// Without a cloud distribution point (cdnType NONE) nothing uploads.
func TestNoCloudDistributionPoint(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{NoJCDS: true})
	c := login(t, s)
	if got := cdnTypeOf(t, c, fx); got != "NONE" {
		t.Fatalf("cdnType %q", got)
	}
	st, body, _ := c.do("GET", "/api/v1/cloud-distribution-point/upload-capability", nil)
	checkAPIError(t, st, 404, body, "NOT_FOUND")
	if !strings.Contains(string(body), "Cloud distribution point not found or is null") {
		t.Fatalf("message: %s", body)
	}
	id := c.createPackage("Nowhere", "Nowhere.pkg", "")
	st, body = c.uploadFile(id, "Nowhere.pkg", []byte("x"))
	checkAPIError(t, st, 404, body, "NOT_FOUND")
	st, body, _ = c.do("GET", "/api/v1/jcds/files/nonexistentfile", nil)
	checkAPIError(t, st, 500, body, "UNEXPECTED_ERROR")
	// Another CDN type accepts packages-route uploads.
	s2 := newSim(t, Config{NoJCDS: true, CDNType: "AMAZON_S3"})
	c2 := login(t, s2)
	if got := cdnTypeOf(t, c2, fx); got != "AMAZON_S3" {
		t.Fatalf("cdnType %q", got)
	}
	id = c2.createPackage("S3", "S3.pkg", "")
	if st, body := c2.uploadFile(id, "S3.pkg", []byte("s3")); st != 201 {
		t.Fatalf("upload to AMAZON_S3: %d %s", st, body)
	}
}

// The day Jamf removes the deprecated JCDS endpoints they answer like any
// unknown path; the packages route goes on working.
func TestJCDSEndpointsRemoved(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{NoJCDSEndpoints: true})
	c := login(t, s)
	_, unknown, _ := c.do("GET", "/api/v1/no-such-endpoint", nil)
	for _, ep := range []string{"GET /api/v1/jcds/files", "POST /api/v1/jcds/files", "POST /api/v1/jcds/renew-credentials",
		"GET /api/v1/jcds/files/nonexistentfile", "DELETE /api/v1/jcds/files/x.pkg", "POST /api/v1/jcds/refresh-inventory"} {
		method, path, _ := strings.Cut(ep, " ")
		st, body, _ := c.do(method, path, nil)
		if st != 404 || string(body) != string(unknown) {
			t.Fatalf("%s: %d %s, want 404 %s", ep, st, body, unknown)
		}
	}
	if got := cdnTypeOf(t, c, fx); got != "JAMF_CLOUD" {
		t.Fatalf("cdnType %q", got)
	}
	data := []byte("after the removal")
	id := c.createPackage("After", "After.pkg", "")
	if st, body := c.uploadFile(id, "After.pkg", data); st != 201 {
		t.Fatalf("upload: %d %s", st, body)
	}
	c.refresh("After.pkg")
	if err := s.Converged("After.pkg", sha3Of(t, data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}
