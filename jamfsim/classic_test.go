package jamfsim

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

// The Classic API form-decodes names in paths: "+" is a space, "%2B" a
// plus. And a name look-up matches the display name, not the file name.
func TestClassicNamesAreFormDecodedDisplayNames(t *testing.T) {
	s := newSim(t, Config{Categories: []string{"Aged 5+ Years"}})
	c := login(t, s)
	s.AddPackage(Package{PackageName: "Aged 5+ Years", FileName: "aged.pkg", CategoryID: "1", Priority: 10})
	for path, want := range map[string]int{
		"/JSSResource/packages/name/Aged%205%2B%20Years": 200,
		"/JSSResource/packages/name/Aged+5%2B+Years":     200,
		"/JSSResource/packages/name/Aged%205+%20Years":   404, // "Aged 5  Years"
		"/JSSResource/packages/name/aged.pkg":            404, // the file name
		"/JSSResource/categories/name/Aged+5%2B+Years":   200,
		"/JSSResource/categories/name/Aged%205+%20Years": 404,
	} {
		st, body, _ := c.do("GET", path, nil, "Accept", "application/json")
		if st != want {
			t.Errorf("GET %s: %d, want %d (%s)", path, st, want, body)
		}
	}
	st, body, _ := c.do("GET", "/JSSResource/packages/name/Aged+5%2B+Years", nil, "Accept", "application/json")
	var got struct {
		Package struct{ Name, Filename, Category string } `json:"package"`
	}
	json.Unmarshal(body, &got)
	if st != 200 || got.Package.Name != "Aged 5+ Years" || got.Package.Filename != "aged.pkg" || got.Package.Category != "Aged 5+ Years" {
		t.Fatalf("%d %s", st, body)
	}
}

// Classic create, update by name and delete; duplicates are refused.
func TestClassicWritesFollowTheRecords(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	post := func(path, body string) (int, string) {
		st, out, _ := c.do("POST", path, strings.NewReader(body), "Content-Type", "application/xml")
		return st, string(out)
	}
	if st, out := post("/JSSResource/packages/id/0", "<package><name>Tool 1+</name><category>Testing</category><filename>Tool.pkg</filename><priority>10</priority></package>"); st != 201 || !strings.Contains(out, "<id>1</id>") {
		t.Fatalf("create: %d %s", st, out)
	}
	if st, out := post("/JSSResource/packages/id/0", "<package><name>Other</name><filename>Tool.pkg</filename></package>"); st != 409 || !strings.Contains(out, "Duplicate filename") {
		t.Fatalf("a second record with the file name: %d %s", st, out)
	}
	if p, _ := s.Package(1); p.CloudTransferStatus != "PENDING" || deref(p.Size) != "" {
		t.Fatalf("a Classic record is PENDING until a refresh: %+v", p)
	}
	st, out, _ := c.do("PUT", "/JSSResource/packages/name/Tool+1%2B", strings.NewReader("<package><name>Tool 1+</name><filename>Tool.pkg</filename><notes>n</notes></package>"), "Content-Type", "application/xml")
	if p, _ := s.Package(1); st != 201 || deref(p.Notes) != "n" {
		t.Fatalf("update by name: %d %s %+v", st, out, p)
	}
	var list struct {
		XMLName xml.Name `xml:"packages"`
		Size    int      `xml:"size"`
		Names   []string `xml:"package>name"`
	}
	_, body, _ := c.do("GET", "/JSSResource/packages", nil)
	if err := xml.Unmarshal(body, &list); err != nil || list.Size != 1 || list.Names[0] != "Tool 1+" {
		t.Fatalf("list: %v %s", err, body)
	}
	if st, body, _ := c.do("DELETE", "/JSSResource/packages/name/Tool%201%2B", nil); st != 200 || len(s.Packages()) != 0 {
		t.Fatalf("delete by name: %d %s", st, body)
	}
}

// Classic file share distribution points, from Config.FileShares.
func TestClassicListsFileShareDistributionPoints(t *testing.T) {
	s := newSim(t, Config{FileShares: []FileShare{
		{Name: "Main Share", Server: "fs.example.com", ShareName: "CasperShare", Workgroup: "CORP", ReadWriteUsername: "casperadmin", Master: true},
		{Name: "Old AFP", Server: "10.0.0.9", ShareName: "JamfShare", Type: "AFP"},
	}})
	c := login(t, s)
	_, body, _ := c.do("GET", "/JSSResource/distributionpoints", nil, "Accept", "application/json")
	var list struct {
		DPs []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"distribution_points"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.DPs) != 2 || list.DPs[1].ID != 2 || list.DPs[1].Name != "Old AFP" {
		t.Fatalf("list: %v %s", err, body)
	}
	_, body, _ = c.do("GET", "/JSSResource/distributionpoints/id/2", nil, "Accept", "application/json")
	var one struct {
		DP map[string]any `json:"distribution_point"`
	}
	json.Unmarshal(body, &one)
	if one.DP["connection_type"] != "AFP" || one.DP["share_port"] != 548.0 || one.DP["ip_address"] != "10.0.0.9" || one.DP["share_name"] != "JamfShare" {
		t.Fatalf("detail: %s", body)
	}
	_, body, _ = c.do("GET", "/JSSResource/distributionpoints/name/Main+Share", nil)
	var dp struct {
		XMLName        xml.Name `xml:"distribution_point"`
		ConnectionType string   `xml:"connection_type"`
		SharePort      int      `xml:"share_port"`
		Workgroup      string   `xml:"workgroup_or_domain"`
		RWUser         string   `xml:"read_write_username"`
		IsMaster       bool     `xml:"is_master"`
	}
	if err := xml.Unmarshal(body, &dp); err != nil || dp.ConnectionType != "SMB" || dp.SharePort != 445 || dp.Workgroup != "CORP" || dp.RWUser != "casperadmin" || !dp.IsMaster {
		t.Fatalf("XML detail: %v %s", err, body)
	}
	if st, _, _ := c.do("GET", "/JSSResource/distributionpoints/id/3", nil); st != 404 {
		t.Fatalf("unknown id: %d", st)
	}
}
