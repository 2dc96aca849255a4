package jamfsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// loginUser gets a bearer token for a user with basic auth.
func loginUser(t *testing.T, s *Server, user, pass string) *client {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/auth/token", nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	if tok.Token == "" {
		t.Fatalf("no token for %s: %d", user, resp.StatusCode)
	}
	return &client{t: t, s: s, token: tok.Token}
}

// The body a live Jamf Pro answered for a missing privilege.
const forbiddenBody = `{"httpStatus": 403, "errors": [{"code": "INVALID_PRIVILEGE", "description": "Forbidden", "id": "0", "field": null}]}`

func checkForbidden(t *testing.T, what string, st int, body []byte) {
	t.Helper()
	if strings.Contains(what, "/JSSResource/") {
		if st != 403 || !strings.Contains(string(body), "<p style=\"font-size: 1.2em;font-weight: bold;margin: 1em 0px;\">Forbidden</p>") {
			t.Fatalf("%s: want the Classic 403 status page, got %d %s", what, st, body)
		}
		return
	}
	var got, want any
	json.Unmarshal(body, &got)
	json.Unmarshal([]byte(forbiddenBody), &want)
	if st != 403 || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: want 403 %s, got %d %s", what, forbiddenBody, st, body)
	}
}

// Every endpoint checks the privileges its OpenAPI x-required-privileges
// lists (Classic: the matching Jamf privileges).
func TestEveryEndpointChecksItsPrivileges(t *testing.T) {
	rows := []struct {
		method, path, body string
		privs              []string
	}{
		{"GET", "/api/v1/jcds/files", "", []string{PrivReadJCDSFiles}},
		{"POST", "/api/v1/jcds/files", "", []string{PrivCreateJCDSFiles}},
		{"POST", "/api/v1/jcds/renew-credentials", "", []string{PrivCreateJCDSFiles}},
		{"GET", "/api/v1/jcds/files/x.pkg", "", []string{PrivReadJCDSFiles}},
		{"DELETE", "/api/v1/jcds/files/x.pkg", "", []string{PrivDeleteJCDSFiles}},
		{"POST", "/api/v1/jcds/refresh-inventory", "", []string{PrivReadJCDSFiles}},
		{"GET", "/api/v1/packages", "", []string{PrivReadPackages}},
		{"POST", "/api/v1/packages", pkgJSON("New", "New.pkg", ""), []string{PrivCreatePackages}},
		{"GET", "/api/v1/packages/1", "", []string{PrivReadPackages}},
		{"PUT", "/api/v1/packages/1", pkgJSON("Seed", "Seed.pkg", ""), []string{PrivUpdatePackages}},
		{"DELETE", "/api/v1/packages/99", "", []string{PrivDeletePackages}},
		{"POST", "/api/v1/packages/1/upload", "", []string{PrivUpdatePackages, PrivReadPackages}},
		{"GET", "/api/v1/categories", "", []string{PrivReadCategories}},
		{"POST", "/api/v1/categories", `{"name":"C","priority":9}`, []string{PrivCreateCategories}},
		{"POST", "/api/v1/cloud-distribution-point/refresh-inventory", "", []string{PrivReadCloudDP}},
		{"GET", "/api/v1/cloud-distribution-point", "", []string{PrivReadCloudDP}},
		{"GET", "/api/v1/cloud-distribution-point/files", "", []string{PrivReadCloudDP}},
		{"GET", "/api/v1/cloud-distribution-point/upload-capability", "", nil},
		{"GET", "/api/v1/jamf-pro-version", "", nil},
		{"GET", "/api/v1/auth", "", nil},
		{"GET", "/JSSResource/packages/id/1", "", []string{PrivReadPackages}},
		{"GET", "/JSSResource/packages/name/Seed", "", []string{PrivReadPackages}},
		{"POST", "/JSSResource/packages/id/0", "<package><name>K</name><filename>K.pkg</filename></package>", []string{PrivCreatePackages}},
		{"PUT", "/JSSResource/packages/id/1", "<package><name>Seed</name><filename>Seed.pkg</filename></package>", []string{PrivUpdatePackages}},
		{"DELETE", "/JSSResource/packages/id/99", "", []string{PrivDeletePackages}},
		{"GET", "/JSSResource/categories/name/Testing", "", []string{PrivReadCategories}},
		{"GET", "/JSSResource/distributionpoints", "", []string{PrivReadDistributionPoints}},
		{"POST", "/api/v1/packages/delete-multiple", `{"ids":["98"]}`, []string{PrivDeletePackages}},
		{"GET", "/JSSResource/policies", "", []string{PrivReadPolicies}},
		{"GET", "/JSSResource/policies/id/1", "", []string{PrivReadPolicies}},
		{"GET", "/api/v2/patch-software-title-configurations", "", []string{PrivReadPatchTitles}},
		{"GET", "/api/v3/computer-prestages", "", []string{PrivReadPreStages}},
	}
	cfg := Config{Users: map[string]string{"nobody": "pw"}, Privileges: map[string][]string{"nobody": {}}}
	for i, row := range rows {
		u := fmt.Sprint("user", i)
		cfg.Users[u] = "pw"
		cfg.Privileges[u] = row.privs
		if len(row.privs) > 1 {
			cfg.Users["partial"+u], cfg.Privileges["partial"+u] = "pw", row.privs[:1]
		}
	}
	s := newSim(t, cfg)
	s.AddPackage(Package{PackageName: "Seed", FileName: "Seed.pkg", CategoryID: "-1", Priority: 10})
	nobody := loginUser(t, s, "nobody", "pw")
	for i, row := range rows {
		what := row.method + " " + row.path
		st, body, _ := nobody.do(row.method, row.path, strings.NewReader(row.body), "Content-Type", "application/json")
		if row.privs == nil {
			if st == 403 {
				t.Errorf("%s needs no privilege, got 403", what)
			}
			continue
		}
		checkForbidden(t, what, st, body)
		if st, body, _ := loginUser(t, s, fmt.Sprint("user", i), "pw").do(row.method, row.path, strings.NewReader(row.body), "Content-Type", "application/json"); st == 403 {
			t.Errorf("%s with exactly %v: 403 %s", what, row.privs, body)
		}
		if len(row.privs) > 1 {
			st, body, _ := loginUser(t, s, fmt.Sprint("partialuser", i), "pw").do(row.method, row.path, nil)
			checkForbidden(t, what+" with only "+row.privs[0], st, body)
		}
	}
}

// A JamfPackageUploader-style API role uploads through the packages
// route and gets 403 from every JCDS endpoint, as real servers answer.
func TestJamfPackageUploaderRoleUsesThePackagesRoute(t *testing.T) {
	s := newSim(t, Config{Privileges: map[string][]string{DefaultClientID: JamfPackageUploaderRole}})
	c := login(t, s)
	st, body, _ := c.do("GET", "/api/v1/jcds/files/nonexistentfile", nil)
	checkForbidden(t, "JCDS detection", st, body)
	if st, body, _ := c.do("GET", "/api/v1/categories", nil); st != 200 {
		t.Fatalf("categories: %d %s", st, body)
	}
	data := []byte("uploaded by JamfPackageUploader")
	id := c.createPackage("JPU", "JPU.pkg", "")
	if st, body := c.uploadFile(id, "JPU.pkg", data); st != 201 {
		t.Fatalf("upload: %d %s", st, body)
	}
	c.refresh("JPU.pkg")
	if err := s.Converged("JPU.pkg", sha3Of(t, data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	st, body, _ = c.do("DELETE", "/api/v1/packages/"+id, nil)
	checkForbidden(t, "delete", st, body)
}

// GET /api/v1/auth reports the account's privileges (AuthorizationV1).
func TestAuthDetailsReportThePrivileges(t *testing.T) {
	fx := loadFixture(t)
	s := newSim(t, Config{Privileges: map[string][]string{DefaultClientID: JamfPackageUploaderRole}})
	st, body, _ := login(t, s).do("GET", "/api/v1/auth", nil)
	check(t, fx, "GET /v1/auth", st, body)
	var auth struct {
		Account struct {
			PrivilegeSet     string              `json:"privilegeSet"`
			PrivilegesBySite map[string][]string `json:"privilegesBySite"`
		} `json:"account"`
		AuthenticationType string `json:"authenticationType"`
	}
	json.Unmarshal(body, &auth)
	want := append([]string{}, JamfPackageUploaderRole...)
	sort.Strings(want)
	if auth.Account.PrivilegeSet != "CUSTOM" || !reflect.DeepEqual(auth.Account.PrivilegesBySite["-1"], want) || auth.AuthenticationType != "CLIENT_CREDENTIALS" {
		t.Fatalf("auth details: %s", body)
	}
	st, body, _ = loginUser(t, s, DefaultUser, DefaultPassword).do("GET", "/api/v1/auth", nil)
	check(t, fx, "GET /v1/auth", st, body)
	if !strings.Contains(string(body), `"privilegeSet" : "ADMINISTRATOR"`) || !strings.Contains(string(body), PrivCreateJCDSFiles) {
		t.Fatalf("an account without a role entry has every privilege: %s", body)
	}
}
