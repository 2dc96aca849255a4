package jcds2_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// The engine never names an AutoPkg input (or a flag): what the user can
// change is a typed value (Hint, Outcome, an error type) that the edge
// says in its own words. Every input name with an underscore is looked
// for as a word in the engine's code, comments included; the single-word
// inputs (version, sleep, md5, recalculate) are ordinary words.
func TestEngineNamesNoInput(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range processor.Inputs {
		if strings.Contains(in.Name, "_") {
			names = append(names, regexp.QuoteMeta(in.Name))
		}
	}
	if len(names) < 40 {
		t.Fatalf("only %d input names from the manifest", len(names))
	}
	re := regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b|--[a-z][a-z-]+`)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if m := re.FindString(line); m != "" {
				t.Errorf("%s:%d names %s: %s", f, i+1, m, strings.TrimSpace(line))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files checked", checked)
	}
}
