package jamfsim

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The simulator is the oracle of the client's tests, so it must share no
// code with the client: it may import nothing from this module.
func TestSimulatorSharesNoCodeWithTheClient(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/jcds2-uploader/jcds2-uploader") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
