package jamfsim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Converged lists every difference from the target state at once.
func TestConvergedReportsEveryDifference(t *testing.T) {
	s := newSim(t, Config{})
	ctx := context.Background()
	local := []byte("the local build")
	if err := s.PutFile(ctx, "App.pkg", []byte("an older build")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "App_2.pkg", local); err != nil {
		t.Fatal(err)
	}
	s.AddPackage(Package{PackageName: "App", FileName: "App.pkg", CategoryID: "-1", Priority: 10, HashType: ptr("SHA3_512"), HashValue: ptr(sha3Of(t, local))})
	s.AddPackage(Package{PackageName: "app", FileName: "APP.pkg", CategoryID: "-1", Priority: 10})
	err := s.Converged("App.pkg", sha3Of(t, local), int64(len(local)))
	if err == nil {
		t.Fatal("nothing here is converged")
	}
	for _, want := range []string{"the stored App.pkg is not the local file", "duplicate file on the distribution point: App_2.pkg",
		`record 2 has fileName "APP.pkg", differing only in letter case`, "does not describe the stored file",
		`cloudTransferStatus "PENDING", want READY`, "size is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if err := s.Converged("Absent.pkg", sha3Of(t, local), 3); err == nil || !strings.Contains(err.Error(), "no file Absent.pkg") || !strings.Contains(err.Error(), "0 records have fileName Absent.pkg") {
		t.Fatalf("absent: %v", err)
	}
}

// An MD5 record converges when its hashValue is the stored file's MD5,
// and FileSHA3 gives Converged its arguments from a local file.
func TestConvergedAcceptsAnMD5Record(t *testing.T) {
	s := newSim(t, Config{})
	path := filepath.Join(t.TempDir(), "Md5.pkg")
	data := []byte("md5 world")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(context.Background(), "Md5.pkg", data); err != nil {
		t.Fatal(err)
	}
	s.AddPackage(Package{PackageName: "Md5", FileName: "Md5.pkg", CategoryID: "-1", Priority: 10, HashType: ptr("MD5"), HashValue: ptr(s.Files()["Md5.pkg"].MD5)})
	s.Refresh(context.Background(), "Md5.pkg")
	sha, size, err := FileSHA3(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Converged("Md5.pkg", sha, size); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Package(1); deref(p.HashType) != "MD5" {
		t.Fatalf("a describing MD5 stays: %+v", p)
	}
}
