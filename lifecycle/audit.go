package lifecycle

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// Defect classes an audit reports.
const (
	OrphanFile    = "orphan-file"    // a JCDS file no record names
	MissingFile   = "missing-file"   // a record whose file is not on JCDS
	NotReady      = "not-ready"      // a record not READY, or without a size
	HashMismatch  = "hash-mismatch"  // a record's hash does not describe its file
	Duplicate     = "duplicate"      // a Name_N.pkg copy of another file
	Unused        = "unused"         // nothing installs the package
	UnknownHashes = "unchecked-hash" // the record's hash type cannot be checked against JCDS
)

// Finding is one defect.
type Finding struct {
	Class     string `json:"class"`
	PackageID string `json:"packageId,omitempty"`
	FileName  string `json:"fileName"`
	Detail    string `json:"detail"`
	// Fix is what --fix does about it ("" when it cannot: Detail says why).
	Fix string `json:"fix,omitempty"`
	// SameBytes: a duplicate whose bytes are its original's.
	SameBytes bool `json:"sameBytes,omitempty"`
}

// TitleUsage is the storage one title uses on JCDS.
type TitleUsage struct {
	Title    string `json:"title"`
	Packages int    `json:"packages"`
	Bytes    int64  `json:"bytes"`
}

// Report is an audit's outcome.
type Report struct {
	Packages int          `json:"packages"`
	Files    int          `json:"files"`
	Bytes    int64        `json:"bytes"`
	Findings []Finding    `json:"findings"`
	Titles   []TitleUsage `json:"titles"`
}

// Count is how many findings of a class the report holds.
func (r *Report) Count(class string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Class == class {
			n++
		}
	}
	return n
}

var dupRE = regexp.MustCompile(`^(.*)_[0-9]+(\.[A-Za-z0-9]+)$`)

// Audit judges the repository from the records, the JCDS listing (nil:
// the server has no JCDS 2.0 listing, so file checks are skipped) and
// what installs each package. It reads and changes nothing.
func Audit(pkgs []jamf.Package, files []jamf.FileData, usage jamf.Usage) *Report {
	r := &Report{Packages: len(pkgs), Files: len(files)}
	byName := map[string]jamf.FileData{}
	for _, f := range files {
		byName[f.FileName] = f
		r.Bytes += f.Length
	}
	named := map[string]bool{}
	for _, p := range pkgs {
		named[p.FileName] = true
	}
	sorted := append([]jamf.Package(nil), pkgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return idLess(sorted[i].ID, sorted[j].ID) })
	titles := map[string]*TitleUsage{}
	for _, p := range sorted {
		t := titles[titleOf(p.PackageName)]
		if t == nil {
			t = &TitleUsage{Title: titleOf(p.PackageName)}
			titles[t.Title] = t
		}
		t.Packages++
		add := func(class, detail, fix string) {
			r.Findings = append(r.Findings, Finding{Class: class, PackageID: p.ID, FileName: p.FileName, Detail: detail, Fix: fix})
		}
		f, onJCDS := byName[p.FileName]
		if onJCDS {
			t.Bytes += f.Length
		}
		if files != nil && !onJCDS {
			add(MissingFile, fmt.Sprintf("record %s (%s) names %s, which is not on JCDS", p.ID, p.PackageName, p.FileName),
				"upload it again when the package is in --pkg-dir")
		}
		// A record whose file is missing is not READY either; the missing
		// file is the finding.
		if (onJCDS || files == nil) && (p.CloudTransferStatus != "READY" || jamf.Deref(p.Size) == "") {
			add(NotReady, fmt.Sprintf("record %s: cloudTransferStatus %q, size %q", p.ID, p.CloudTransferStatus, jamf.Deref(p.Size)),
				"refresh the inventory")
		}
		if onJCDS {
			switch ht, hv := strings.ToUpper(jamf.Deref(p.HashType)), strings.ToLower(jamf.Deref(p.HashValue)); {
			case ht == "SHA3_512" && f.SHA3 != "" && hv != strings.ToLower(f.SHA3),
				ht == "MD5" && f.MD5 != "" && hv != strings.ToLower(f.MD5):
				add(HashMismatch, fmt.Sprintf("record %s: %s %.16s… but the file's is %.16s…", p.ID, ht, hv, pick(ht, f)),
					"refresh the inventory (Jamf Pro recomputes the hash from the file)")
			case ht != "SHA3_512" && ht != "MD5":
				add(UnknownHashes, fmt.Sprintf("record %s: hashType %q cannot be checked against JCDS (it lists MD5 and SHA3-512)", p.ID, ht), "")
			}
		}
		if len(usage[p.ID]) == 0 {
			add(Unused, fmt.Sprintf("no policy, patch title or PreStage installs %s (id %s)", p.PackageName, p.ID), "")
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := byName[n]
		if m := dupRE.FindStringSubmatch(n); m != nil && !named[n] {
			if orig, ok := byName[m[1]+m[2]]; ok {
				same := orig.Length == f.Length && f.SHA3 != "" && strings.EqualFold(orig.SHA3, f.SHA3)
				fd := Finding{Class: Duplicate, FileName: n, SameBytes: same,
					Detail: fmt.Sprintf("a copy of %s no record names (%s bytes)", orig.FileName, map[bool]string{true: "the same", false: "different"}[same])}
				if same {
					fd.Fix = "delete the copy: its bytes are " + orig.FileName + "'s"
				}
				r.Findings = append(r.Findings, fd)
				continue
			}
		}
		if !named[n] {
			r.Findings = append(r.Findings, Finding{Class: OrphanFile, FileName: n,
				Detail: fmt.Sprintf("%s (%d bytes) on JCDS, named by no record", n, f.Length)})
		}
	}
	for _, t := range titles {
		r.Titles = append(r.Titles, *t)
	}
	sort.Slice(r.Titles, func(i, j int) bool {
		if r.Titles[i].Bytes != r.Titles[j].Bytes {
			return r.Titles[i].Bytes > r.Titles[j].Bytes
		}
		return r.Titles[i].Title < r.Titles[j].Title
	})
	return r
}

func pick(ht string, f jamf.FileData) string {
	if ht == "MD5" {
		return f.MD5
	}
	return f.SHA3
}

func idLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

var versionTail = regexp.MustCompile(`[-_ ]v?[0-9][^-_ ]*$`)

// titleOf is a package name without its version: "Firefox-120.0.pkg"
// and "Firefox-121.0" are "Firefox". Names with no version stand alone.
func titleOf(name string) string {
	for _, ext := range []string{".pkg", ".dmg", ".zip", ".mpkg"} {
		name = strings.TrimSuffix(name, ext)
	}
	if t := versionTail.ReplaceAllString(name, ""); t != "" {
		return t
	}
	return name
}
