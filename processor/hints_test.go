package processor

import (
	"errors"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/jamf"
	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

// The engine's notes and errors carry values; each edge says them in
// the words of its own inputs or flags.
func TestEdgesRenderHints(t *testing.T) {
	n := jcds2.Note{Text: "Package record 7 holds other bytes than the local package; not replacing them.", Hint: jcds2.NeedsReplace}
	if got := processorNames.note(n); got != n.Text+" Set replace_pkg to True to upload it." {
		t.Errorf("processor: %q", got)
	}
	if got := cliNames.note(n); got != n.Text+" Run again with --replace to upload it." {
		t.Errorf("pkg command: %q", got)
	}
	n = jcds2.Note{Text: "WARNING: record 7 names file A.pkg, not B.pkg: the record will not point at the upload", Hint: jcds2.MetadataSkipped}
	if got := cliNames.note(n); got != n.Text+" (--skip-metadata-upload is set)" {
		t.Errorf("pkg command: %q", got)
	}
	err := processorNames.hint(&jcds2.CategoryError{Err: &jamf.CategoryNotFoundError{Name: "Nope"}})
	var ce *jcds2.CategoryError
	if !errors.As(err, &ce) || err.Error()[:len("pkg_category: ")] != "pkg_category: " {
		t.Errorf("category error: %v", err)
	}
	if err := cliNames.hint(&jcds2.CategoryError{Err: &jamf.CategoryNotFoundError{Name: "Nope"}}); err.Error()[:len("--category: ")] != "--category: " {
		t.Errorf("category error: %v", err)
	}
}

// How a run left the package is a value; each edge says what to do
// about it with its own input or flag, and says nothing when converged.
func TestEdgesRenderOutcomes(t *testing.T) {
	for _, c := range []struct {
		res        jcds2.Result
		proc, cli  string // what each edge's line must hold
		procNotCLI string // ...and the processor's input the CLI must not name
	}{
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Diverged, NeedsReplace: true}, "Set replace_pkg to True", "--replace", "replace_pkg"},
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Lost}, "replace_pkg replaces what a run finds", "--replace replaces what a run finds", "replace_pkg"},
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Unhashed, NeedsReplace: true}, "not verified", "Run again with --replace", "replace_pkg"},
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Diverged}, "run again to decide", "run again to decide", "replace_pkg"},
	} {
		p, cl := processorNames.outcome(&c.res), cliNames.outcome(&c.res)
		if !strings.HasPrefix(p, "A.pkg ") || !strings.Contains(p, c.proc) {
			t.Errorf("%v: processor says %q, want %q in it", c.res.Outcome, p, c.proc)
		}
		if !strings.HasPrefix(cl, "A.pkg ") || !strings.Contains(cl, c.cli) || strings.Contains(cl, c.procNotCLI) {
			t.Errorf("%v: pkg command says %q, want %q in it and no %s", c.res.Outcome, cl, c.cli, c.procNotCLI)
		}
	}
	if got := processorNames.outcome(&jcds2.Result{PkgName: "A.pkg"}); got != "" {
		t.Errorf("converged: %q, want nothing", got)
	}
	// A package that cannot be sent: the input that gave it, or the path alone.
	e := &jcds2.PackageError{Msg: `bundle "/x" holds a symbolic link`}
	if got := processorNames.hint(e).Error(); got != `pkg_path bundle "/x" holds a symbolic link` {
		t.Errorf("processor: %q", got)
	}
	if got := cliNames.hint(e).Error(); got != e.Msg {
		t.Errorf("pkg command: %q", got)
	}
}
