package doctor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"howett.net/plist"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// maxRecipeBytes bounds one recipe file: real ones are a few KiB, and a
// scan of a search dir must not read a stray disk image into memory.
const maxRecipeBytes = 1 << 20

// recipeSuffixes are the recipe file names AutoPkg reads (overrides too).
var recipeSuffixes = []string{".recipe", ".recipe.plist", ".recipe.yaml"}

// unresolvedRef is AutoPkg's %name% left in a value after substitution.
var unresolvedRef = regexp.MustCompile(`%[A-Za-z_][A-Za-z_0-9]*%`)

// RecipeScan is what the recipes under some folders name.
type RecipeScan struct {
	Files int
	// Categories maps each category named to the files naming it.
	Categories map[string][]string
	// Unresolved are values a parent's Input, an override or AutoPkg's
	// own env fills in ("file: %CATEGORY%"): not checkable here.
	Unresolved []string
	// Unreadable are files that could not be read or parsed, with why.
	Unreadable []string
}

// isCategoryInput is a recipe Input key that holds a package category:
// CATEGORY and PKG_CATEGORY by the community's convention (which recipes
// pass on as pkg_category: "%CATEGORY%"), and pkg_category itself.
// POLICY_CATEGORY and the like are for other processors.
func isCategoryInput(key string) bool {
	switch strings.ToUpper(key) {
	case "CATEGORY", "PKG_CATEGORY":
		return true
	}
	return false
}

// ScanRecipes reads every recipe under dirs (not following links, not
// entering hidden folders) and collects the package categories named in
// their Input and in the pkg_category argument of their steps, each
// resolved against the same file's Input as AutoPkg substitutes it.
func ScanRecipes(dirs []string) (*RecipeScan, error) {
	scan := &RecipeScan{Categories: map[string][]string{}}
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("--recipes %s cannot be read (%v): give a folder of recipes", dir, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--recipes %s is not a folder: give a folder of recipes (a search dir)", dir)
		}
		err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				scan.Unreadable = append(scan.Unreadable, fmt.Sprintf("%s (%v)", path, err))
				return nil
			}
			if e.IsDir() && path != dir && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			if e.Type().IsRegular() && isRecipeName(e.Name()) {
				scan.file(dir, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scanning %s: %w", dir, err)
		}
	}
	for name, files := range scan.Categories {
		sort.Strings(files)
		scan.Categories[name] = files
	}
	sort.Strings(scan.Unresolved)
	return scan, nil
}

func isRecipeName(name string) bool {
	for _, s := range recipeSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

func (s *RecipeScan) file(root, path string) {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		rel = path
	}
	shown := filepath.Join(filepath.Base(root), rel)
	recipe, err := readRecipe(path)
	if err != nil {
		s.Unreadable = append(s.Unreadable, fmt.Sprintf("%s (%v)", shown, err))
		return
	}
	s.Files++
	input, _ := recipe["Input"].(map[string]any)
	env := processor.Env(input)
	var values []string
	for k, v := range input {
		if str, ok := scalar(v); ok && isCategoryInput(k) {
			values = append(values, str)
		}
	}
	steps, _ := recipe["Process"].([]any)
	for _, st := range steps {
		step, _ := st.(map[string]any)
		args, _ := step["Arguments"].(map[string]any)
		if str, ok := scalar(args["pkg_category"]); ok {
			values = append(values, str)
		}
	}
	seen := map[string]bool{}
	for _, v := range values {
		name := strings.TrimSpace(processor.Substitute(env, v, nil))
		switch {
		case name == "" || seen[name]:
		case unresolvedRef.MatchString(name):
			s.Unresolved = append(s.Unresolved, shown+": "+name)
		default:
			s.Categories[name] = append(s.Categories[name], shown)
		}
		seen[name] = true
	}
}

// readRecipe decodes a plist or YAML recipe into its top-level dict.
func readRecipe(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecipeBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRecipeBytes {
		return nil, errors.New("larger than 1 MiB, so not a recipe")
	}
	return decodeRecipe(data, strings.HasSuffix(path, ".yaml"))
}

// decodeRecipe turns the decoders' panics on hostile input (both have
// had some) into errors: a scan must survive any file in a search dir.
func decodeRecipe(data []byte, isYAML bool) (m map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("malformed: %v", r)
		}
	}()
	if isYAML {
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("not valid YAML: %w", err)
		}
		return m, nil
	}
	if _, err := plist.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not a valid plist: %w", err)
	}
	return m, nil
}

// scalar renders a recipe value that is text or a number; lists and
// dicts are not category names.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int64, uint64, float64:
		return fmt.Sprint(x), true
	}
	return "", false
}
