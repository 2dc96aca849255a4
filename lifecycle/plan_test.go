package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
)

func pkgs(names ...string) []jamf.Package {
	var out []jamf.Package
	for i, n := range names {
		out = append(out, jamf.Package{ID: fmt.Sprint(i + 1), PackageName: n, FileName: n + ".pkg"})
	}
	return out
}

func ids(ds []Decision) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Package.ID)
	}
	return strings.Join(s, ",")
}

func TestMakePlan(t *testing.T) {
	eight := pkgs("App-1.0", "App-1.1", "App-1.2", "App-1.3", "App-1.4", "App-1.5", "App-1.6", "App-1.7")
	used := jamf.Usage{
		"2": {{Kind: "policy", ID: "9", Name: "Install App"}},
		"4": {{Kind: "PreStage", ID: "1", Name: "Lab"}, {Kind: "patch title", ID: "3", Name: "App", Version: "1.3"}},
	}
	with := func(o Options, f func(*Options)) Options { f(&o); return o }
	app := with(Defaults, func(o *Options) { o.Match = "App-"; o.Keep = 3 })
	cases := []struct {
		name               string
		pkgs               []jamf.Package
		usage              jamf.Usage
		opts               Options
		keep, inUse, del   string
		stop               string // the failsafe input, if it stops
		reasonIn, reasonOf string // a reason the in-use list must hold
	}{
		{name: "8 versions, 2 in use, keep 3", pkgs: eight, usage: used, opts: app,
			keep: "8,7,6", inUse: "4,2", del: "5,3,1", reasonIn: `installed by PreStage 1 "Lab", patch title 3 "App" version 1.3`, reasonOf: "4"},
		{name: "nothing to delete", pkgs: eight[:3], opts: app, keep: "3,2,1"},
		{name: "keep 0 deletes every unused match", pkgs: eight, usage: used, opts: with(app, func(o *Options) { o.Keep = 0 }),
			inUse: "4,2", del: "8,7,6,5,3,1"},
		{name: "the prefix must match from the start", pkgs: pkgs("App-1", "MyApp-1", "App-2", "Apple-1"), opts: with(app, func(o *Options) { o.Keep = 1 }),
			keep: "3", del: "1"},
		{name: "name too short", pkgs: eight, opts: with(app, func(o *Options) { o.Match = "Ap" }), stop: "minimum_name_length"},
		{name: "empty match stops too", pkgs: eight, opts: with(app, func(o *Options) { o.Match = "" }), stop: "minimum_name_length"},
		{name: "too many deletions", pkgs: eight, opts: with(app, func(o *Options) { o.MaxDelete = 4 }), stop: "maximum_allowed_packages_to_delete"},
		{name: "in-use packages do not count against the maximum", pkgs: eight, usage: used, opts: with(app, func(o *Options) { o.MaxDelete = 3 }),
			keep: "8,7,6", inUse: "4,2", del: "5,3,1"},
		{name: "by version: ids out of order", pkgs: pkgs("App-1.10", "App-1.9", "App-2.0b1", "App-2.0", "App-1.2"),
			opts: with(app, func(o *Options) { o.Keep = 2; o.ByVersion = true }), keep: "4,3", del: "1,2,5"},
		{name: "by id: the same names", pkgs: pkgs("App-1.10", "App-1.9", "App-2.0b1", "App-2.0", "App-1.2"),
			opts: with(app, func(o *Options) { o.Keep = 2 }), keep: "5,4", del: "3,2,1"},
		{name: "unused mode ignores versions_to_keep", pkgs: eight, usage: used, opts: with(app, func(o *Options) { o.Unused = true }),
			inUse: "4,2", del: "8,7,6,5,3,1"},
		{name: "unused mode, no match: every package", pkgs: pkgs("A", "B", "C"), usage: jamf.Usage{"2": {{Kind: "policy", ID: "1", Name: "p"}}},
			opts: Options{Unused: true, MinNameLength: 3, MaxDelete: 20}, inUse: "2", del: "3,1"},
		{name: "unused mode keeps the maximum", pkgs: eight, opts: Options{Unused: true, MinNameLength: 3, MaxDelete: 7}, stop: "maximum_allowed_packages_to_delete"},
		{name: "negative keep", pkgs: eight, opts: with(app, func(o *Options) { o.Keep = -1 }), stop: "versions_to_keep"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := MakePlan(tc.pkgs, tc.usage, tc.opts)
			var stop *StopError
			if tc.stop != "" {
				if !errors.As(err, &stop) || stop.Input != tc.stop || !strings.Contains(err.Error(), "nothing deleted") && tc.stop != "versions_to_keep" {
					t.Fatalf("want a stop on %s, got %v", tc.stop, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := [3]string{ids(p.Keep), ids(p.InUse), ids(p.Delete)}; got != [3]string{tc.keep, tc.inUse, tc.del} {
				t.Fatalf("keep/in use/delete = %q, want %q", got, [3]string{tc.keep, tc.inUse, tc.del})
			}
			if len(p.Keep)+len(p.InUse)+len(p.Delete) != len(p.Matched) {
				t.Fatalf("every match must be decided once: %d matched", len(p.Matched))
			}
			for _, d := range p.InUse {
				if d.Package.ID == tc.reasonOf && d.Reason != tc.reasonIn {
					t.Fatalf("reason of %s: %q", d.Package.ID, d.Reason)
				}
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.10", "1.9", 1}, {"2.0", "2.0b1", 1}, {"2.0.1", "2.0", 1}, {"2.0b2", "2.0b1", 1},
		{"120.0.1", "120.0.1", 0}, {"latest", "1.0", -1}, {"1.0 (arm64)", "1.0 (arm64)", 0}, {"10", "9.9.9", 1},
	} {
		if got := compareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}
