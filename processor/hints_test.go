package processor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
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
	// A record naming another file, with metadata updates off: the
	// setting, and the two ways out, in each edge's words.
	of := &jcds2.RecordNamesOtherFileError{ID: "7", Display: "App", FileName: "App-1.pkg", PkgName: "App-2.pkg"}
	for _, c := range []struct {
		names       Names
		skip, named string
		not         string
	}{{processorNames, "skip_metadata_upload", "pkg_display_name", "--"}, {cliNames, "--skip-metadata-upload", "--name", "skip_metadata_upload"}} {
		err := c.names.hint(of)
		var got *jcds2.RecordNamesOtherFileError
		s := err.Error()
		if !errors.As(err, &got) || !strings.HasPrefix(s, c.skip+": package record 7") || !strings.Contains(s, "turn "+c.skip+" off") ||
			!strings.Contains(s, "give it a "+c.named+" no other package has") || strings.Contains(s, c.not) {
			t.Errorf("%s: %v", c.skip, err)
		}
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
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Unhashed, NeedsReplace: true}, "will not hash that upload either", "Only if it may not: Run again with --replace", "replace_pkg"},
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Diverged}, "run again to decide", "run again to decide", "replace_pkg"},
		{jcds2.Result{PkgName: "A.pkg", Outcome: jcds2.Unhashed, Uploaded: true}, "uploaded, not verified", "uploaded, not verified", "replace_pkg"},
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

// Through both edges whole: a run that left other bytes says, once it
// is over, what to do in that edge's words (exit 0: nothing failed).
func TestEdgesSayTheOutcomeAfterTheRun(t *testing.T) {
	for _, k := range []string{"JSS_URL", "CLIENT_ID", "CLIENT_SECRET", "API_USERNAME", "API_PASSWORD", "BEARER_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("JSS_URL", "https://example.jamfcloud.com")
	t.Setenv("CLIENT_ID", "3d5b9b8a-0c6e-4f57-a2a1-8c0e5c2f0a11")
	t.Setenv("CLIENT_SECRET", "a-client-secret-for-tests")
	pkg := filepath.Join(t.TempDir(), "Other.pkg")
	if err := os.WriteFile(pkg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := timedUploader{&jcds2.Result{Status: "unchanged (the server holds other bytes)", Outcome: jcds2.Diverged, NeedsReplace: true}}

	var stdout, stderr bytes.Buffer
	if code := RunCLI(context.Background(), up, []string{"--pkg", pkg, "--key", "RECIPE_CACHE_DIR=" + t.TempDir()}, &stdout, &stderr); code != 0 {
		t.Fatalf("pkg command: exit %d: %s", code, stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, "Other.pkg was left as it is") || !strings.Contains(s, "Run again with --replace") || strings.Contains(s, "replace_pkg") {
		t.Errorf("pkg command said:\n%s", s)
	}

	env := baseEnvFor(t, pkg)
	env["RECIPE_CACHE_DIR"] = t.TempDir()
	in, err := EncodeEnv(env, FormatXML)
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := Run(context.Background(), up, bytes.NewReader(in), &stdout, &stderr, Options{}); code != 0 {
		t.Fatalf("processor: exit %d: %s", code, stderr.String())
	}
	if s := stderr.String(); !strings.Contains(s, "Other.pkg was left as it is") || !strings.Contains(s, "Set replace_pkg to True") || strings.Contains(s, "--replace") {
		t.Errorf("processor said:\n%s", s)
	}
}
