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
	Class       string `json:"class"`
	PackageID   string `json:"packageId,omitempty"`
	PackageName string `json:"packageName,omitempty"`
	FileName    string `json:"fileName"`
	Detail      string `json:"detail"`
	// Fix is what --fix does about it ("" when it cannot: Detail says why).
	Fix string `json:"fix,omitempty"`
	// SameBytes: a duplicate whose bytes are its original's.
	SameBytes bool `json:"sameBytes,omitempty"`
	// Original is the file a duplicate copies, and OriginalName the
	// packageName of the record naming it (when one does).
	Original     string `json:"original,omitempty"`
	OriginalName string `json:"originalPackageName,omitempty"`
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
	a := NewAuditor(files != nil, func(id string) bool { return len(usage[id]) > 0 })
	for _, f := range files {
		a.AddFile(f)
	}
	sorted := append([]jamf.Package(nil), pkgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return idLess(sorted[i].ID, sorted[j].ID) })
	for _, p := range sorted {
		a.AddPackage(p)
	}
	return a.Report()
}

// Auditor judges a repository read as a stream: the JCDS files first
// (AddFile), then the records one at a time in id order (AddPackage),
// so a caller need not hold every record. It keeps one small entry per
// JCDS file, the findings and a tally per title.
type Auditor struct {
	jcds   bool
	used   func(id string) bool
	files  map[string]*fileEntry
	r      *Report
	titles map[string]*TitleUsage
}

// fileEntry is what an audit keeps of a JCDS file.
type fileEntry struct {
	length    int64
	md5, sha3 string
	named     bool   // a record names it
	pkgName   string // the packageName of the first record naming it
}

// NewAuditor starts an audit; jcds false: the server has no JCDS 2.0
// listing, so the file checks are skipped. used says whether something
// installs a package (jamf.InUse.Has: the audit needs no more).
func NewAuditor(jcds bool, used func(id string) bool) *Auditor {
	return &Auditor{jcds: jcds, used: used, files: map[string]*fileEntry{}, r: &Report{}, titles: map[string]*TitleUsage{}}
}

// AddFile adds one JCDS file (before any record).
func (a *Auditor) AddFile(f jamf.FileData) {
	a.r.Files++
	a.r.Bytes += f.Length
	a.files[f.FileName] = &fileEntry{length: f.Length, md5: f.MD5, sha3: f.SHA3}
}

// AddPackage judges one record against the files and the usage.
func (a *Auditor) AddPackage(p jamf.Package) {
	r := a.r
	r.Packages++
	title := titleOf(p.PackageName)
	t := a.titles[title]
	if t == nil {
		t = &TitleUsage{Title: title}
		a.titles[title] = t
	}
	t.Packages++
	add := func(class, detail, fix string) {
		r.Findings = append(r.Findings, Finding{Class: class, PackageID: p.ID, PackageName: p.PackageName, FileName: p.FileName, Detail: detail, Fix: fix})
	}
	f, onJCDS := a.files[p.FileName]
	if onJCDS {
		t.Bytes += f.length
		if !f.named {
			f.named, f.pkgName = true, p.PackageName
		}
	}
	if a.jcds && !onJCDS {
		add(MissingFile, fmt.Sprintf("record %s (%s) names %s, which is not on JCDS", p.ID, p.PackageName, p.FileName),
			"upload it again when the package is in --pkg-dir")
	}
	// A record whose file is missing is not READY either; the missing
	// file is the finding.
	if (onJCDS || !a.jcds) && (p.CloudTransferStatus != "READY" || jamf.Deref(p.Size) == "") {
		add(NotReady, fmt.Sprintf("record %s: cloudTransferStatus %q, size %q", p.ID, p.CloudTransferStatus, jamf.Deref(p.Size)),
			"upload it through the engine when it is in --pkg-dir, else refresh the inventory")
	}
	if onJCDS {
		switch ht, hv := strings.ToUpper(jamf.Deref(p.HashType)), strings.ToLower(jamf.Deref(p.HashValue)); {
		case ht == "SHA3_512" && f.sha3 != "" && hv != strings.ToLower(f.sha3),
			ht == "MD5" && f.md5 != "" && hv != strings.ToLower(f.md5):
			add(HashMismatch, fmt.Sprintf("record %s: %s %.16s… but the file's is %.16s…", p.ID, ht, hv, pick(ht, f)),
				"upload it through the engine when it is in --pkg-dir (it corrects the hash), else refresh the inventory (Jamf Pro recomputes it)")
		case ht != "SHA3_512" && ht != "MD5":
			add(UnknownHashes, fmt.Sprintf("record %s: hashType %q cannot be checked against JCDS (it lists MD5 and SHA3-512)", p.ID, ht), "")
		}
	}
	if !a.used(p.ID) {
		add(Unused, fmt.Sprintf("no policy, patch title or PreStage installs %s (id %s)", p.PackageName, p.ID), "")
	}
}

// Report ends the audit: the files no record named (duplicates and
// orphans) and the storage per title.
func (a *Auditor) Report() *Report {
	r := a.r
	names := make([]string, 0, len(a.files))
	for n := range a.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := a.files[n]
		if f.named {
			continue
		}
		if m := dupRE.FindStringSubmatch(n); m != nil {
			if orig, ok := a.files[m[1]+m[2]]; ok {
				same := orig.length == f.length && f.sha3 != "" && strings.EqualFold(orig.sha3, f.sha3)
				fd := Finding{Class: Duplicate, FileName: n, SameBytes: same, Original: m[1] + m[2], OriginalName: orig.pkgName,
					Detail: fmt.Sprintf("a copy of %s no record names (%s bytes)", m[1]+m[2], map[bool]string{true: "the same", false: "different"}[same])}
				if same {
					fd.Fix = "the upload engine removes the copy when " + m[1] + m[2] + " is in --pkg-dir"
				}
				r.Findings = append(r.Findings, fd)
				continue
			}
		}
		r.Findings = append(r.Findings, Finding{Class: OrphanFile, FileName: n,
			Detail: fmt.Sprintf("%s (%d bytes) on JCDS, named by no record", n, f.length)})
	}
	for _, t := range a.titles {
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

func pick(ht string, f *fileEntry) string {
	if ht == "MD5" {
		return f.md5
	}
	return f.sha3
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
