package lifecycle

import (
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

func str(s string) *string { return &s }

// Each defect class is found, once, on the package it concerns; a clean
// package has no finding but "unused" when nothing installs it.
func TestAudit(t *testing.T) {
	rec := func(id, name, file, ht, hv, status, size string) jamf.Package {
		return jamf.Package{ID: id, PackageName: name, FileName: file, HashType: str(ht), HashValue: str(hv), CloudTransferStatus: status, Size: str(size)}
	}
	pkgs := []jamf.Package{
		rec("1", "App-1.0", "App-1.0.pkg", "SHA3_512", "aa", "READY", "4KB"), // clean, used
		rec("2", "App-1.1", "App-1.1.pkg", "SHA3_512", "bb", "READY", "4KB"), // file missing
		rec("3", "App-1.2", "App-1.2.pkg", "SHA3_512", "cc", "PENDING", ""),  // not ready
		rec("4", "App-1.3", "App-1.3.pkg", "SHA3_512", "ff", "READY", "4KB"), // hash mismatch
		rec("5", "Tool 2", "Tool 2.pkg", "MD5", "m5", "READY", "1KB"),        // clean by MD5, unused
		rec("6", "Old", "Old.pkg", "SHA_512", "x", "READY", "1KB"),           // unchecked hash type
	}
	files := []jamf.FileData{
		{FileName: "App-1.0.pkg", SHA3: "AA", Length: 4096},
		{FileName: "App-1.2.pkg", SHA3: "cc", Length: 4096},
		{FileName: "App-1.3.pkg", SHA3: "dd", Length: 4096},
		{FileName: "Tool 2.pkg", MD5: "M5", Length: 1024},
		{FileName: "Old.pkg", Length: 10},
		{FileName: "App-1.0_1.pkg", SHA3: "aa", Length: 4096}, // same-bytes duplicate
		{FileName: "App-1.3_2.pkg", SHA3: "ee", Length: 4096}, // different-bytes duplicate
		{FileName: "Stray.pkg", Length: 7},                    // orphan
	}
	usage := jamf.Usage{"1": {{Kind: "policy", ID: "1", Name: "p"}}, "2": {{Kind: "policy", ID: "1", Name: "p"}},
		"3": {{Kind: "policy", ID: "1", Name: "p"}}, "4": {{Kind: "policy", ID: "1", Name: "p"}}, "6": {{Kind: "policy", ID: "1", Name: "p"}}}
	r := Audit(pkgs, files, usage)
	want := map[string][]string{ // class -> the ids (or file names) it names
		MissingFile: {"2"}, NotReady: {"3"}, HashMismatch: {"4"}, Unused: {"5"}, UnknownHashes: {"6"},
		Duplicate: {"App-1.0_1.pkg", "App-1.3_2.pkg"}, OrphanFile: {"Stray.pkg"},
	}
	got := map[string][]string{}
	for _, f := range r.Findings {
		key := f.PackageID
		if key == "" {
			key = f.FileName
		}
		got[f.Class] = append(got[f.Class], key)
		if f.Class == Duplicate && (f.FileName == "App-1.0_1.pkg") != (f.SameBytes && f.Fix != "") {
			t.Errorf("only the same-bytes duplicate is fixable: %+v", f)
		}
	}
	for class, keys := range want {
		if len(got[class]) != len(keys) {
			t.Errorf("%s: got %v, want %v", class, got[class], keys)
			continue
		}
		for i := range keys {
			if got[class][i] != keys[i] {
				t.Errorf("%s: got %v, want %v", class, got[class], keys)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("classes found: %v", got)
	}
	if r.Packages != 6 || r.Files != 8 || r.Bytes != 4096*5+1024+10+7 {
		t.Errorf("totals: %d packages, %d files, %d bytes", r.Packages, r.Files, r.Bytes)
	}
	if len(r.Titles) != 3 || r.Titles[0].Title != "App" || r.Titles[0].Packages != 4 || r.Titles[0].Bytes != 3*4096 {
		t.Errorf("titles: %+v", r.Titles)
	}
	// No JCDS listing: no file checks, no invented defects.
	r = Audit(pkgs[:1], nil, usage)
	if len(r.Findings) != 0 {
		t.Errorf("without a listing: %+v", r.Findings)
	}
}

func TestTitleOf(t *testing.T) {
	for name, want := range map[string]string{"Firefox-120.0": "Firefox", "Google Chrome 120.0.1": "Google Chrome",
		"Tool_v2.1.pkg": "Tool", "Office": "Office", "1Password-8.10": "1Password", "App-1.0.pkg": "App"} {
		if got := titleOf(name); got != want {
			t.Errorf("titleOf(%q) = %q, want %q", name, got, want)
		}
	}
}
