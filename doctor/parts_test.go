package doctor

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/distpoint"
)

func TestClockSkew(t *testing.T) {
	local := time.Date(2026, 12, 2, 10, 0, 0, 700_000_000, time.UTC)
	for _, c := range []struct {
		date time.Time
		want time.Duration
	}{
		{local.Truncate(time.Second), 0}, // same second: Date is cut down
		{local.Add(-90 * time.Second).Truncate(time.Second), -90 * time.Second},
		{local.Add(5 * time.Minute).Truncate(time.Second), 5 * time.Minute},
	} {
		if got := clockSkew(c.date, local); got != c.want {
			t.Errorf("clockSkew(%s, %s) = %s, want %s", c.date, local, got, c.want)
		}
	}
}

func TestJWTExpiry(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	exp := time.Now().Add(20 * time.Minute).Truncate(time.Second)
	tok := enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{"sub":"x","exp":`+strconv.FormatInt(exp.Unix(), 10)+`}`)) + ".sig"
	if got, ok := jwtExpiry(tok); !ok || !got.Equal(exp) {
		t.Fatalf("jwtExpiry = %v %v, want %v", got, ok, exp)
	}
	for _, bad := range []string{"", "opaque-token", "a.b.c", "a." + enc([]byte(`{"exp":"soon"}`)) + ".c", "a." + enc([]byte(`{}`)) + ".c"} {
		if _, ok := jwtExpiry(bad); ok {
			t.Errorf("jwtExpiry(%q) claims an expiry", bad)
		}
	}
}

func TestListedPrivileges(t *testing.T) {
	var p privileges
	p.readListed(map[string]any{
		"account":       map[string]any{"privilegeSet": "CUSTOM", "privilegesBySite": map[string]any{"-1": []any{"Read Packages", "Read Jamf Content Distribution Server Files"}}},
		"accountGroups": []any{map[string]any{"privilegeSet": "CUSTOM", "privileges": []any{"Create Packages"}}},
	})
	for name, want := range map[string]knowledge{
		"Read Packages": granted, "Create Packages": granted, "Update Packages": lacking,
		"Read Jamf Cloud Distribution Service Files": granted, // the name before 11.20
	} {
		if got := p.lookup(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// A read that was refused outranks the listing.
	p.reads = map[string]outcome{"Read Packages": {decided: true, via: "GET /api/v1/packages"}}
	if p.lookup("Read Packages") != lacking {
		t.Error("a 403 must outrank the listing")
	}
	var none privileges
	none.readListed(map[string]any{"account": map[string]any{}, "authenticationType": "CLIENT_CREDENTIALS"})
	if none.listed || none.lookup("Create Packages") != unknown {
		t.Error("an account without a listing knows nothing")
	}
	var admin privileges
	admin.readListed(map[string]any{"account": map[string]any{"privilegeSet": "ADMINISTRATOR"}})
	if admin.lookup("Delete Jamf Cloud Distribution Service Files") != granted {
		t.Error("an administrator has every privilege")
	}
}

func TestSameShare(t *testing.T) {
	listed := listedShare{Name: "Main", Server: "files.example.com", ShareName: "CasperShare"}
	for url, want := range map[string]bool{
		"smb://FILES.example.com/caspershare":         true,
		"smb://files.example.com:445/CasperShare/Sub": true,
		"smb://files.example.com/Other":               false,
		"smb://other.example.com/CasperShare":         false,
		"file:///Volumes/CasperShare":                 false,
	} {
		if got := sameShare(distpoint.Share{Input: "SMB_URL", URL: url}, listed); got != want {
			t.Errorf("sameShare(%s) = %v, want %v", url, got, want)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n          int
		word, want string
	}{{1, "category", "1 category"}, {2, "category", "2 categories"}, {0, "warning", "0 warnings"}, {1, "problem", "1 problem"}} {
		if got := plural(c.n, c.word); got != c.want {
			t.Errorf("plural(%d, %q) = %q, want %q", c.n, c.word, got, c.want)
		}
	}
}
