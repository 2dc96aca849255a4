package jamfsim

import (
	"net/url"
	"strings"
	"testing"
)

func filterCount(t *testing.T, c *client, path, filter string) string {
	t.Helper()
	st, body, _ := c.do("GET", path+"?filter="+url.QueryEscape(filter), nil)
	if st != 200 {
		t.Fatalf("%s %s: %d %s", path, filter, st, body)
	}
	return string(body)
}

// By default names compare exactly; fileName is unique like packageName.
func TestNamesAreCaseSensitiveByDefault(t *testing.T) {
	s := newSim(t, Config{})
	c := login(t, s)
	c.createPackage("Tool", "Tool.pkg", "")
	if body := filterCount(t, c, "/api/v1/packages", `fileName=="tool.pkg"`); !strings.Contains(body, `"totalCount" : 0`) {
		t.Fatalf("case-sensitive filter: %s", body)
	}
	st, body, _ := c.do("POST", "/api/v1/packages", strings.NewReader(pkgJSON("Other", "Tool.pkg", "")), "Content-Type", "application/json")
	checkAPIError(t, st, 400, body, "DUPLICATE_FIELD")
	if !strings.Contains(string(body), `"field" : "fileName"`) {
		t.Fatalf("the duplicate field is fileName: %s", body)
	}
	c.createPackage("tool", "tool.pkg", "") // differs only in case: allowed here
	if err := s.Converged("Tool.pkg", "00", 0); err == nil || !strings.Contains(err.Error(), `fileName "tool.pkg", differing only in letter case`) {
		t.Fatalf("Converged must report the case twin: %v", err)
	}
}

// CaseInsensitiveNames: == ignores case, and so does uniqueness.
func TestCaseInsensitiveNames(t *testing.T) {
	s := newSim(t, Config{CaseInsensitiveNames: true})
	c := login(t, s)
	id := c.createPackage("Tool", "Tool.pkg", "")
	for _, f := range []string{`fileName=="tool.PKG"`, `packageName=="TOOL"`, `packageName=="to*"`} {
		if body := filterCount(t, c, "/api/v1/packages", f); !strings.Contains(body, `"totalCount" : 1`) {
			t.Fatalf("%s: %s", f, body)
		}
	}
	if body := filterCount(t, c, "/api/v1/categories", `name=="testing"`); !strings.Contains(body, `"totalCount" : 1`) {
		t.Fatalf("category: %s", body)
	}
	for _, dup := range []string{pkgJSON("tool", "x.pkg", ""), pkgJSON("Other", "TOOL.pkg", "")} {
		st, body, _ := c.do("POST", "/api/v1/packages", strings.NewReader(dup), "Content-Type", "application/json")
		checkAPIError(t, st, 400, body, "DUPLICATE_FIELD")
	}
	// Its own record may change case on PUT.
	if st, body, _ := c.do("PUT", "/api/v1/packages/"+id, strings.NewReader(pkgJSON("TOOL", "Tool.pkg", "")), "Content-Type", "application/json"); st != 200 {
		t.Fatalf("PUT: %d %s", st, body)
	}
	if st, _, _ := c.do("GET", "/JSSResource/packages/name/tool", nil); st != 200 {
		t.Fatalf("Classic look-up ignoring case: %d", st)
	}
}
