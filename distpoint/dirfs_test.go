package distpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Put, look, read back, replace, delete on a file:// share.
func TestFileShareDest(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "DP", "Packages"), 0o755)
	d := &ShareDest{Share: Share{Input: "SMB_URL", URL: "file://" + filepath.Join(root, "DP")}}
	if d.String() != "file share file://"+filepath.Join(root, "DP") || d.Cloud() {
		t.Fatalf("String %q, Cloud %v", d, d.Cloud())
	}
	pkg := writePkg(t, t.TempDir(), "F.pkg", 2<<20, 1)
	onDisk := filepath.Join(root, "DP", "Packages", "F.pkg")

	if h, err := d.Observe(ctx, "F.pkg"); err != nil || h.Present {
		t.Fatalf("before: %+v %v", h, err)
	}
	h, err := put(ctx, d, pkg)
	if err != nil || !h.Present || h.Size != 2<<20 || h.Stamp == "" {
		t.Fatalf("put: %+v %v", h, err)
	}
	sameFile(t, onDisk, pkg)
	if seen, err := d.Observe(ctx, "F.pkg"); err != nil || seen != h {
		t.Fatalf("observe after put: %+v, put said %+v (%v)", seen, h, err)
	}
	rc, err := d.Open(ctx, "F.pkg")
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rc)
	rc.Close()
	if want, _ := os.ReadFile(pkg.Path); !bytes.Equal(back, want) {
		t.Fatal("read back other bytes")
	}

	first := idOf(t, onDisk)
	v2 := writePkg(t, t.TempDir(), "F.pkg", 2<<20, 2)
	h2, err := put(ctx, d, v2)
	if err != nil || h2.Stamp == h.Stamp {
		t.Fatalf("replacement: %+v (stamp was %q) %v", h2, h.Stamp, err)
	}
	sameFile(t, onDisk, v2)
	if idOf(t, onDisk).ino == first.ino {
		t.Fatal("the replacement was written in place, not renamed over the old file")
	}
	if names := dirNames(t, filepath.Join(root, "DP", "Packages")); !slices.Equal(names, []string{"F.pkg"}) {
		t.Fatalf("Packages holds %v", names)
	}
	// A source shorter or longer than it says never lands.
	if _, err := d.Put(ctx, "F.pkg", strings.NewReader("short"), 10); err == nil {
		t.Fatal("a short source was accepted")
	}
	if _, err := d.Put(ctx, "F.pkg", strings.NewReader("much longer"), 4); err == nil {
		t.Fatal("a long source was accepted")
	}
	sameFile(t, onDisk, v2)
	if err := d.Delete(ctx, "F.pkg"); err != nil {
		t.Fatal(err)
	}
	if h, err := d.Observe(ctx, "F.pkg"); err != nil || h.Present {
		t.Fatalf("after delete: %+v %v", h, err)
	}
}

func TestFileShareWithoutPackagesFolder(t *testing.T) {
	root := t.TempDir()
	d := &ShareDest{Share: Share{Input: "SMB3_URL", URL: "file://" + root}}
	_, err := d.Observe(context.Background(), "G.pkg")
	if err == nil || !strings.Contains(err.Error(), "no Packages folder") || !strings.Contains(err.Error(), "point SMB3_URL at") {
		t.Fatalf("no Packages: %v", err)
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
	if _, err := put(context.Background(), &ShareDest{Share: Share{Input: "SMB_URL", URL: "file:///" + name}}, pkg); err != nil {
		t.Fatalf("fallback: %v", err)
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
	_, err := put(ctx, &ShareDest{Share: Share{Input: "SMB_URL", URL: "file://" + root}, Log: log}, pkg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
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
