package jamfsim

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Policies, patch titles and PreStages name the packages they install,
// each in its API's shape; PreStages page.
func TestUsageEndpoints(t *testing.T) {
	s := newSim(t, Config{})
	a := s.AddPackage(Package{PackageName: "App-1", FileName: "App-1.pkg", CategoryID: "-1", Priority: 10})
	b := s.AddPackage(Package{PackageName: "App-2", FileName: "App-2.pkg", CategoryID: "-1", Priority: 10})
	s.AddPolicy("Install App", a)
	s.AddPatchTitle("App", PatchPackage{PackageID: "2", Version: "2.0"})
	for i := 0; i < 3; i++ {
		s.AddPreStage("Lab", "1")
	}
	c := login(t, s)
	st, body, _ := c.do("GET", "/JSSResource/policies/id/1", nil, "Accept", "application/json")
	var pol struct {
		Policy struct {
			PackageConfiguration struct {
				Packages []struct {
					ID   int
					Name string
				}
			} `json:"package_configuration"`
		}
	}
	json.Unmarshal(body, &pol)
	if st != 200 || len(pol.Policy.PackageConfiguration.Packages) != 1 || pol.Policy.PackageConfiguration.Packages[0].Name != "App-1" {
		t.Fatalf("policy: %d %s", st, body)
	}
	st, body, _ = c.do("GET", "/JSSResource/policies/id/1", nil, "Accept", "application/xml")
	if st != 200 || !strings.Contains(string(body), "<package><id>1</id><name>App-1</name>") {
		t.Fatalf("policy XML: %d %s", st, body)
	}
	st, body, _ = c.do("GET", "/api/v2/patch-software-title-configurations", nil)
	if st != 200 || !strings.Contains(string(body), `"packageId" : "2"`) || !strings.Contains(string(body), `"displayName" : "App-2"`) {
		t.Fatalf("patch titles: %d %s", st, body)
	}
	st, body, _ = c.do("GET", "/api/v3/computer-prestages?page=1&page-size=2&sort=id:asc", nil)
	var ps struct {
		TotalCount int
		Results    []struct {
			ID               string
			CustomPackageIDs []string `json:"customPackageIds"`
		}
	}
	json.Unmarshal(body, &ps)
	if st != 200 || ps.TotalCount != 3 || len(ps.Results) != 1 || ps.Results[0].ID != "3" || ps.Results[0].CustomPackageIDs[0] != "1" {
		t.Fatalf("prestages page 1: %d %s", st, body)
	}
	// delete-multiple deletes what exists and names what does not.
	st, body, _ = c.do("POST", "/api/v1/packages/delete-multiple", strings.NewReader(`{"ids":["2","77"]}`), "Content-Type", "application/json")
	if st != 400 || !strings.Contains(string(body), "INVALID_ID") || !strings.Contains(string(body), `"id" : "77"`) {
		t.Fatalf("delete-multiple: %d %s", st, body)
	}
	if _, ok := s.Package(b); ok {
		t.Fatal("package 2 survived delete-multiple")
	}
}

// Deleting a record deletes its file; deleting the file leaves the record
// (jamf-pro-sdk-python's docs, reference section 3.3).
func TestDeleteSemantics(t *testing.T) {
	s := newSim(t, Config{})
	ctx := context.Background()
	for _, n := range []string{"A.pkg", "B.pkg"} {
		if err := s.PutFile(ctx, n, []byte("bytes of "+n)); err != nil {
			t.Fatal(err)
		}
		s.AddPackage(Package{PackageName: n, FileName: n, CategoryID: "-1", Priority: 10})
	}
	c := login(t, s)
	if st, body, _ := c.do("DELETE", "/JSSResource/packages/id/1", nil); st != 200 {
		t.Fatalf("classic delete: %d %s", st, body)
	}
	if st, body, _ := c.do("DELETE", "/api/v1/jcds/files/B.pkg", nil); st != 204 {
		t.Fatalf("jcds delete: %d %s", st, body)
	}
	files := s.Files()
	if _, ok := files["A.pkg"]; ok {
		t.Error("A.pkg stayed after its record was deleted")
	}
	if _, ok := s.Package(2); !ok || len(files) != 0 {
		t.Errorf("record 2 should stay without its file; files %v", files)
	}
}

// With MaxInFlight, a request beyond the limit gets 429 and Retry-After.
func TestMaxInFlight(t *testing.T) {
	s := newSim(t, Config{MaxInFlight: 1})
	c := login(t, s)
	arrived := s.DelayNotify("GET /api/v1/packages", 500e6, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.do("GET", "/api/v1/packages", nil) }()
	<-arrived
	st, _, hdr := c.do("GET", "/api/v1/categories", nil)
	wg.Wait()
	if st != 429 || hdr.Get("Retry-After") != "1" {
		t.Fatalf("want 429 with Retry-After, got %d %v", st, hdr)
	}
}
