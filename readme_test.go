package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite docs/inputs.md's tables from the manifest")

// inputsPage holds the input and output tables generated from the manifest.
const inputsPage = "docs/inputs.md"

const tablesBegin, tablesEnd = "<!-- manifest:begin (generated; go test -run TestReadme -update-readme) -->\n", "<!-- manifest:end -->"

// The input/output tables come from the manifest, so they cannot drift.
func TestReadmeTablesMatchTheManifest(t *testing.T) {
	data, err := os.ReadFile(inputsPage)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, tablesBegin), strings.Index(readme, tablesEnd)
	if i < 0 || j < i {
		t.Fatal(inputsPage + " lacks the manifest markers")
	}
	want := readme[:i+len(tablesBegin)] + processor.MarkdownTables() + readme[j:]
	if want == readme {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(inputsPage, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal(inputsPage + "'s input/output tables differ from the manifest: run go test -run TestReadme -update-readme")
}
