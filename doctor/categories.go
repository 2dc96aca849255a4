package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// checkCategories looks up each category the inputs (pkg_category) and
// the recipes under --recipes name: a run fails on one that is missing.
func (d *doctor) checkCategories(ctx context.Context) {
	named := map[string][]string{}
	if d.req.Category != "" {
		named[d.req.Category] = []string{"the inputs (pkg_category)"}
	}
	if len(d.recipeDirs) > 0 {
		scan, err := ScanRecipes(d.recipeDirs)
		if err != nil {
			d.rep.add(Fail, "recipes", "%v", err)
		} else {
			d.reportScan(scan)
			for name, files := range scan.Categories {
				named[name] = append(named[name], files...)
			}
		}
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d.checkCategory(ctx, n, named[n])
	}
}

func (d *doctor) reportScan(s *RecipeScan) {
	where := strings.Join(d.recipeDirs, ", ")
	if s.Files == 0 && len(s.Unreadable) == 0 {
		d.rep.add(Warn, "recipes", "no recipe files (*.recipe, *.recipe.plist, *.recipe.yaml) under %s", where)
		return
	}
	detail := fmt.Sprintf("%s under %s name %s", plural(s.Files, "recipe file"), where, plural(len(s.Categories), "category"))
	if len(s.Unresolved) > 0 {
		detail += fmt.Sprintf("; not checked, since a parent recipe, an override or AutoPkg fills them in: %s", someOf(s.Unresolved, 5))
	}
	if len(s.Unreadable) > 0 {
		d.rep.add(Warn, "recipes", "%s; could not read %s", detail, someOf(s.Unreadable, 5))
		return
	}
	d.rep.add(OK, "recipes", "%s", detail)
}

func (d *doctor) checkCategory(ctx context.Context, name string, by []string) {
	check := fmt.Sprintf("category %q", name)
	var err error
	id := ""
	if d.v.ModernPackages() {
		id, err = d.c.CategoryID(ctx, name)
	} else {
		err = d.c.ClassicCategoryExists(ctx, name)
	}
	var nf *jamf.CategoryNotFoundError
	switch {
	case err == nil && id != "":
		d.rep.add(OK, check, "exists (id %s); named by %s", id, someOf(by, 3))
	case err == nil:
		d.rep.add(OK, check, "exists; named by %s", someOf(by, 3))
	case errors.As(err, &nf):
		d.rep.add(Fail, check, "does not exist in Jamf Pro, so runs of %s fail: create it (Settings > Global > Categories, or JamfCategoryUploader) or fix the name", someOf(by, 3))
	case jamf.IsStatus(err, 403):
		d.rep.add(Fail, check, "cannot be looked up: the account lacks %q, so runs of %s fail", jcds2.PrivReadCategories, someOf(by, 3))
	default:
		d.rep.add(Fail, check, "the look-up failed (%v); named by %s", err, someOf(by, 3))
	}
}

// someOf lists up to n items, then says how many more.
func someOf(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
