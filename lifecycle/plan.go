// Package lifecycle decides and carries out what happens to packages
// after their upload: pruning old versions (JamfPackageCleaner's job)
// and unused ones (JamfUnusedPackageCleaner's), never one that a policy,
// a patch title or a PreStage still installs. The planner is a pure
// function of the records, their usage and the options, so what a run
// will delete is printed, and tested, before anything is deleted.
package lifecycle

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

// Options are JamfPackageCleaner's inputs (its defaults in Defaults).
type Options struct {
	Match         string // pkg_name_match: the packageName prefix
	Keep          int    // versions_to_keep
	MinNameLength int    // minimum_name_length: Match must be this long
	MaxDelete     int    // maximum_allowed_packages_to_delete
	// ByVersion orders by the version in the name (after Match) instead
	// of by package id; ties and names without a version fall back to id.
	ByVersion bool
	// Unused is JamfUnusedPackageCleaner's job: every matching package
	// nothing installs is deleted, whatever its age (Keep is not used;
	// an empty Match means every package).
	Unused bool
}

// Defaults are JamfPackageCleaner's.
var Defaults = Options{Keep: 5, MinNameLength: 3, MaxDelete: 20}

// Decision is what the plan does with one package, and why.
type Decision struct {
	Package jamf.Package
	Reason  string
	Uses    []jamf.Use // what installs it (kept-because-used only)
}

// Plan is the outcome: every matching package is in exactly one list.
type Plan struct {
	Matched []jamf.Package // newest first
	Keep    []Decision     // the newest Keep (or, unused mode: none)
	InUse   []Decision     // would go, but something installs it
	Delete  []Decision
}

// StopError is a failsafe refusing the plan; nothing may be deleted.
type StopError struct {
	Input string // the input that decides (for the hint at the edge)
	Msg   string
}

func (e *StopError) Error() string { return e.Msg }

// MakePlan decides, from every package record and what uses each, which
// matching packages to keep and which to delete. It deletes nothing and
// reads nothing: the same inputs always give the same plan.
func MakePlan(pkgs []jamf.Package, usage jamf.Usage, o Options) (*Plan, error) {
	if o.Keep < 0 || o.MaxDelete < 0 || o.MinNameLength < 0 {
		return nil, &StopError{"versions_to_keep", "versions_to_keep, minimum_name_length and maximum_allowed_packages_to_delete must not be negative"}
	}
	if !(o.Unused && o.Match == "") && len([]rune(o.Match)) < o.MinNameLength {
		return nil, &StopError{"minimum_name_length", fmt.Sprintf("pkg_name_match %q is shorter than minimum_name_length (%d characters): it could match other titles' packages; nothing deleted", o.Match, o.MinNameLength)}
	}
	p := &Plan{}
	for _, pkg := range pkgs {
		if strings.HasPrefix(pkg.PackageName, o.Match) {
			p.Matched = append(p.Matched, pkg)
		}
	}
	sort.SliceStable(p.Matched, func(i, j int) bool { return newer(p.Matched[i], p.Matched[j], o) })
	for i, pkg := range p.Matched {
		uses := usage[pkg.ID]
		switch {
		case !o.Unused && i < o.Keep:
			p.Keep = append(p.Keep, Decision{Package: pkg, Reason: fmt.Sprintf("one of the %d newest", o.Keep), Uses: uses})
		case len(uses) > 0:
			p.InUse = append(p.InUse, Decision{Package: pkg, Reason: "installed by " + describe(uses), Uses: uses})
		case o.Unused:
			p.Delete = append(p.Delete, Decision{Package: pkg, Reason: "no policy, patch title or PreStage installs it"})
		default:
			p.Delete = append(p.Delete, Decision{Package: pkg, Reason: fmt.Sprintf("older than the %d newest, and unused", o.Keep)})
		}
	}
	if len(p.Delete) > o.MaxDelete {
		return p, &StopError{"maximum_allowed_packages_to_delete", fmt.Sprintf("the plan deletes %d packages, more than maximum_allowed_packages_to_delete (%d); nothing deleted", len(p.Delete), o.MaxDelete)}
	}
	return p, nil
}

func describe(uses []jamf.Use) string {
	parts := make([]string, len(uses))
	for i, u := range uses {
		parts[i] = u.String()
	}
	return strings.Join(parts, ", ")
}

// newer orders a before b: by version when asked and both have one,
// else by id, higher first (JamfPackageCleaner sorts ids descending).
func newer(a, b jamf.Package, o Options) bool {
	if o.ByVersion {
		if c := compareVersions(versionOf(a.PackageName, o.Match), versionOf(b.PackageName, o.Match)); c != 0 {
			return c > 0
		}
	}
	ai, aerr := strconv.Atoi(a.ID)
	bi, berr := strconv.Atoi(b.ID)
	if aerr == nil && berr == nil {
		return ai > bi
	}
	return a.ID > b.ID
}

// versionOf is the name after the prefix, without a package extension.
func versionOf(name, prefix string) string {
	v := strings.TrimPrefix(name, prefix)
	for _, ext := range []string{".pkg", ".dmg", ".zip", ".mpkg"} {
		v = strings.TrimSuffix(v, ext)
	}
	return v
}

// compareVersions compares dotted versions segment by segment: digit
// runs as numbers, other runs as text (1.10 > 1.9, 2.0 > 2.0b1). A
// version with no digits at all sorts below any with digits.
func compareVersions(a, b string) int {
	as, bs := segments(a), segments(b)
	hasA, hasB := strings.ContainsFunc(a, unicode.IsDigit), strings.ContainsFunc(b, unicode.IsDigit)
	if hasA != hasB {
		if hasA {
			return 1
		}
		return -1
	}
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, y := as[i], bs[i]
		xn, xerr := strconv.ParseUint(x, 10, 64)
		yn, yerr := strconv.ParseUint(y, 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			if xn != yn {
				if xn > yn {
					return 1
				}
				return -1
			}
		case xerr == nil: // a number beats a pre-release word: 2.0.1 > 2.0b
			return 1
		case yerr == nil:
			return -1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	// 2.0 < 2.0.1, but 2.0 > 2.0b1 (a trailing word is a pre-release).
	switch {
	case len(as) > len(bs):
		if _, err := strconv.ParseUint(as[len(bs)], 10, 64); err != nil {
			return -1
		}
		return 1
	case len(as) < len(bs):
		if _, err := strconv.ParseUint(bs[len(as)], 10, 64); err != nil {
			return 1
		}
		return -1
	}
	return 0
}

// segments splits into digit runs and letter runs; separators go.
func segments(s string) []string {
	var out []string
	var cur strings.Builder
	digit := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsDigit(r):
			if !digit {
				flush()
			}
			digit = true
			cur.WriteRune(r)
		case unicode.IsLetter(r):
			if digit {
				flush()
			}
			digit = false
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}
