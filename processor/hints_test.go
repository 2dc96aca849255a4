package processor

import (
	"errors"
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
