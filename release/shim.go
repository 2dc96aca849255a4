package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// spec is one shared processor the repository ships: a shim Class.py
// beside the stub recipe, running `jcds2-uploader Command` with the env
// plist on stdin, its inputs and outputs from Manifest.
type spec struct {
	Class, Command string
	Manifest       func() processor.Manifest
}

// processors are rendered from the same template, one shim each.
var processors = []spec{
	{Class: processor.Name, Command: "process", Manifest: processor.GetManifest},
	{Class: processor.CleanerName, Command: "clean", Manifest: processor.GetCleanerManifest},
}

// writeShims renders every processor's shim into dir for pins and
// returns the paths written.
func writeShims(dir string, pins *Pins) ([]string, error) {
	var written []string
	for _, s := range processors {
		src, err := shimSource(s, pins)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, s.Class+".py")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}

//go:embed shim.py.tmpl
var shimTemplate string

// pyLiteral writes a manifest value as a Python literal.
func pyLiteral(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		// A JSON string is a valid Python string; keep <, > and & as is.
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(x)
		return strings.TrimSuffix(b.String(), "\n")
	case int, int64, uint64:
		return fmt.Sprint(x)
	case float64: // a default read back from pins.json
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x))
		}
		return fmt.Sprint(x)
	case []string:
		if len(x) == 0 {
			return "()"
		}
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = pyLiteral(s)
		}
		return "(" + strings.Join(parts, ", ") + ",)"
	}
	panic(fmt.Sprintf("no Python literal for %T", v))
}

// pyWrapped writes a long string as adjacent Python literals in
// parentheses, one line of at most about width characters each, so the
// generated file stays readable; indent is the continuation indent.
func pyWrapped(s, indent string, width int) string {
	var lines []string
	for len(s) > width {
		cut := strings.LastIndex(s[:width], " ") + 1 // keep the space on this line
		if cut <= 0 {
			for cut = width; !utf8.RuneStart(s[cut]); cut-- {
			}
		}
		lines = append(lines, pyLiteral(s[:cut]))
		s = s[cut:]
	}
	lines = append(lines, pyLiteral(s))
	return "(\n" + indent + "    " + strings.Join(lines, "\n"+indent+"    ") + "\n" + indent + ")"
}

type shimInput struct {
	Name, Required, Default, Description string
	HasDefault                           bool
}

// Shapes of what pins.json puts into the shim verbatim (inside "...").
var (
	versionRe = regexp.MustCompile(`^[0-9A-Za-z.+~-]*$`)
	fileRe    = regexp.MustCompile(`^[0-9A-Za-z._+~-]+$`)
	sha256Re  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	urlRe     = regexp.MustCompile(`^https://[0-9A-Za-z._~:/%@+-]+/$`)
	platRe    = regexp.MustCompile(`^(darwin|[a-z0-9]+/[a-z0-9]+)$`)
)

// check refuses pins that would not render as plain Python literals or
// would download from anything but https://.
func (p *Pins) check() error {
	if !versionRe.MatchString(p.Version) {
		return fmt.Errorf("pins: version %q", p.Version)
	}
	if p.Version == "" {
		if len(p.Assets) > 0 {
			return fmt.Errorf("pins: assets without a version")
		}
		return nil
	}
	if !urlRe.MatchString(p.DownloadURL) {
		return fmt.Errorf("pins: download URL %q must be https:// and end in /", p.DownloadURL)
	}
	for _, a := range p.Assets {
		if !platRe.MatchString(a.Platform) || !fileRe.MatchString(a.File) || !sha256Re.MatchString(a.SHA256) {
			return fmt.Errorf("pins: asset %+v", a)
		}
	}
	return nil
}

// isSecret is the manifest's secret flag (Kind "secret") or a secret
// name (PASSWORD, SECRET, TOKEN, SMB_SHARES), the binary's own rule.
func isSecret(in processor.Input) bool {
	return in.Kind == "secret" || processor.IsSecretKey(in.Name)
}

// description is what `autopkg processor-info` shows: the manifest's
// description, then the secret inputs (which the shim does not declare)
// and how the binary is chosen.
func description(m processor.Manifest) string {
	var secrets, fromEnv []string
	for _, in := range m.Inputs {
		if !isSecret(in) {
			continue
		}
		what := in.Description
		if in.Unsupported != "" {
			what = "accepted, not used"
		}
		secrets = append(secrets, fmt.Sprintf("%s (%s)", in.Name, strings.TrimSuffix(what, ".")))
		if in.Kind == "secret" {
			fromEnv = append(fromEnv, in.Name)
		}
	}
	return m.Description + "\n\n" +
		"Secret inputs are deliberately not declared as input variables, so AutoPkg never " +
		"prints them with a step's Input (-vv) nor keeps them in the step's record in the " +
		"receipt: " + strings.Join(secrets, "; ") + ". They still reach the binary, on stdin, " +
		"never on its command line: from AutoPkg's env (preferences, -k, recipe Input) or, " +
		"when absent or empty there, " + strings.Join(fromEnv, ", ") + " from the process " +
		"environment. Prefer the process environment: AutoPkg itself copies its whole env, " +
		"preferences and -k values included, into every receipt and autopkg_results.plist, " +
		"and prints it at -vvv; it never sees the process environment.\n\n" +
		"The binary, whose SHA-256 must be one this shim pins (the release it names): " +
		"JCDS2_UPLOADER_PATH (AutoPkg env or preferences, then the process environment) " +
		"when set, which may instead match JCDS2_UPLOADER_SHA256 (for air-gapped sites and " +
		"builds of your own); else, beside this file, bin/jcds2-uploader on macOS (universal) " +
		"or bin/jcds2-uploader-<os>-<arch> elsewhere; else the copy this shim downloaded into " +
		"CACHE_DIR/com.github.jcds2-uploader.processors/<version>/; else jcds2-uploader on " +
		"PATH when it is the pinned build (e.g. Homebrew's, same version); else it downloads " +
		"the release's binary over HTTPS into that cache, checks its SHA-256 before making it " +
		"executable, and runs it."
}

// shimSource renders the shim of processor s for pins: the release's
// manifest of s (this checkout's when unreleased) and its binaries.
func shimSource(s spec, pins *Pins) ([]byte, error) {
	m, ok := pins.Manifests[s.Class]
	if !ok {
		if pins.Version != "" {
			return nil, fmt.Errorf("release %s has no manifest for %s: pin a release that ships it", pins.Version, s.Class)
		}
		m = s.Manifest()
	}
	if err := pins.check(); err != nil {
		return nil, err
	}
	data := struct {
		Name, Command, Summary, Description, Version, BaseURL, SecretMarkers string
		SecretInputs, EnvSecrets                                             string
		Assets                                                               []Asset
		Inputs                                                               []shimInput
		Outputs                                                              []struct{ Name, Description string }
	}{Name: s.Class, Command: s.Command, Summary: m.Description, Description: pyWrapped(description(m), "    ", 88),
		Version: pins.Version, BaseURL: pins.DownloadURL, Assets: pins.Assets, SecretMarkers: pyLiteral(m.SecretKeyMarkers)}
	var secrets, fromEnv []string
	for _, in := range m.Inputs {
		if isSecret(in) {
			secrets = append(secrets, in.Name)
			if in.Kind == "secret" {
				fromEnv = append(fromEnv, in.Name)
			}
			continue
		}
		desc := in.Description
		if in.Unsupported != "" {
			desc = "Accepted, not used: " + in.Unsupported + "."
		}
		si := shimInput{Name: in.Name, Required: pyLiteral(in.Required), Description: pyLiteral(desc)}
		if in.Default != nil {
			si.HasDefault, si.Default = true, pyLiteral(in.Default)
		}
		data.Inputs = append(data.Inputs, si)
	}
	data.SecretInputs, data.EnvSecrets = pyLiteral(secrets), pyLiteral(fromEnv)
	for _, o := range m.Outputs {
		data.Outputs = append(data.Outputs, struct{ Name, Description string }{o.Name, pyLiteral(o.Description)})
	}
	tmpl, err := template.New("shim").Parse(shimTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
