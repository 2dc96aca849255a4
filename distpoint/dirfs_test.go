package distpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFileShareCopyRerunReplace(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "DP", "Packages"), 0o755)
	share := Share{Input: "SMB_URL", URL: "file://" + filepath.Join(root, "DP")}
	pkg := writePkg(t, t.TempDir(), "F.pkg", 2<<20, 1)
	onDisk := filepath.Join(root, "DP", "Packages", "F.pkg")

	o := one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{}))
	if o.Status != Copied || o.Target != "file://"+filepath.Join(root, "DP") {
		t.Fatalf("new copy: %+v", o)
	}
	sameFile(t, onDisk, pkg)
	first := idOf(t, onDisk)
	if o = one(t, CopyToShares(context.Background(), []Share{share}, pkg, Options{Replace: true})); o.Status != Unchanged {
		t.Fatalf("re-run with replace: %+v", o)
	}
	if idOf(t, onDisk) != first {
		t.Fatal("an unchanged re-run rewrote the file")
	}
	v2 := writePkg(t, t.TempDir(), "F.pkg", 2<<20, 2)
	if o = one(t, CopyToShares(context.Background(), []Share{share}, v2, Options{Replace: true})); o.Status != Copied {
		t.Fatalf("replacement: %+v", o)
	}
	sameFile(t, onDisk, v2)
	if names := dirNames(t, filepath.Join(root, "DP", "Packages")); !slices.Equal(names, []string{"F.pkg"}) {
		t.Fatalf("Packages holds %v", names)
	}
}

func TestFileShareWithoutPackagesFolder(t *testing.T) {
	root := t.TempDir()
	pkg := writePkg(t, t.TempDir(), "G.pkg", 10, 1)
	o := one(t, CopyToShares(context.Background(), []Share{{Input: "SMB3_URL", URL: "file://" + root}}, pkg, Options{}))
	if o.Status != Failed || !strings.Contains(o.Err.Error(), "no Packages folder") || !strings.Contains(o.Err.Error(), "point SMB3_URL at") {
		t.Fatalf("no Packages: %+v", o)
	}
	if names := dirNames(t, root); len(names) != 0 {
		t.Fatalf("the share was written to: %v", names)
	}
}

// file:///X that does not exist is read as /Volumes/X, as the reference
// does, so recipes written for it keep working.
func TestFileShareVolumesFallback(t *testing.T) {
	defer func(v string) { volumesDir = v }(volumesDir)
	volumesDir = t.TempDir()
	name := "jcds2-test-dp-" + randomHex(4)
	os.MkdirAll(filepath.Join(volumesDir, name, "Packages"), 0o755)
	pkg := writePkg(t, t.TempDir(), "H.pkg", 10, 1)
	o := one(t, CopyToShares(context.Background(), []Share{{Input: "SMB_URL", URL: "file:///" + name}}, pkg, Options{}))
	if o.Status != Copied {
		t.Fatalf("fallback: %+v", o)
	}
	sameFile(t, filepath.Join(volumesDir, name, "Packages", "H.pkg"), pkg)
}

func TestFileShareCancelMidCopy(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "Packages"), 0o755)
	pkg := writePkg(t, t.TempDir(), "I.pkg", 8<<20, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &testLog{onProgress: func(done, total int64) {
		if done >= total/2 {
			cancel()
		}
	}}
	o := one(t, CopyToShares(ctx, []Share{{Input: "SMB_URL", URL: "file://" + root}}, pkg, Options{Log: log}))
	if o.Status != Failed || !errors.Is(o.Err, context.Canceled) {
		t.Fatalf("cancelled: %+v", o)
	}
	if names := dirNames(t, filepath.Join(root, "Packages")); len(names) != 0 {
		t.Fatalf("Packages holds %v after an interrupted copy", names)
	}
}

func TestShareURLs(t *testing.T) {
	good := []struct{ in, addr, share, dir, display string }{
		{"smb://dp.example.com/JamfShare", "dp.example.com:445", "JamfShare", "", "smb://dp.example.com/JamfShare"},
		{"smb://dp:1445/Share/Sub/Dir/", "dp:1445", "Share", "Sub/Dir", "smb://dp:1445/Share/Sub/Dir"},
		{"SMB://[::1]:99/s", "[::1]:99", "s", "", "smb://[::1]:99/s"},
		{"smb://dp/Casper%20Share", "dp:445", "Casper Share", "", "smb://dp/Casper Share"},
		{"file:///srv/jamf", "", "", "/srv/jamf", "file:///srv/jamf"},
		{"file://localhost/srv/jamf/", "", "", "/srv/jamf", "file:///srv/jamf"},
	}
	for _, c := range good {
		loc, err := parseShareURL(c.in)
		if err != nil || loc.addr != c.addr || loc.share != c.share || loc.dir != c.dir || loc.display != c.display {
			t.Errorf("%s: %+v %v", c.in, loc, err)
		}
	}
	bad := map[string]string{
		"":                        "is empty",
		"smb://u:hunter22@dp/s":   "contains a user name or password",
		"smb://dp":                "names no share",
		"smb://dp/":               "names no share",
		"smb://dp:0/s":            "port",
		"smb://dp:99999/s":        "port",
		"smb://dp/s?x=1":          "query",
		"afp://dp/s":              "not an smb:// or file:// URL",
		"/Volumes/DP":             "not an smb:// or file:// URL",
		"file://server/x":         "file:// is a local directory",
		"file:///":                "names no directory",
		"smb://dp/share/a*b":      "character SMB paths cannot hold",
		"smb://dp/share\x00/more": "contains a control character (\\x00)",
		// Percent-encoded controls never reach a log line (#22), nor does
		// a bidi override that would reorder the line on a terminal.
		"smb://dp/share%0d%0aINJECTED: yes": "decodes to a control character",
		"smb://dp/share/%00x":               "decodes to a control character",
		"smb://dp/share/%E2%80%AEgkp.exe":   "decodes to a control character",
		"smb://dp%0a/share":                 "not a valid URL",
		// A query or fragment may hold anything: it is not repeated.
		"smb://dp/s?pw=hunter22": "has a query (?...) or a fragment (#...), which a share URL cannot hold (not repeated here)",
		"smb://dp/s#hunter22":    "\"smb://dp/s\" has a query (?...) or a fragment",
		"smb://dp/s?":            "has a query",
	}
	for in, want := range bad {
		_, err := parseShareURL(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter22") || strings.ContainsAny(err.Error(), "\r\n\x00\u202e") {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestShareNeverPrintsItsPassword(t *testing.T) {
	s := Share{Input: "SMB_URL", URL: "smb://dp/s", Username: "svc", Password: "pa55-word"}
	for _, text := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v", s, s, s), fmt.Sprint([]Share{s})} {
		if strings.Contains(text, "pa55-word") {
			t.Errorf("printed: %s", text)
		}
	}
	s.Password = ""
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "SMB_URL is an smb:// share without a user name or password") {
		t.Errorf("Validate: %v", err)
	}
	if err := (Share{Input: "SMB_URL", URL: "file:///srv/dp"}).Validate(); err != nil {
		t.Errorf("a file:// share needs no credentials: %v", err)
	}
}
