package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

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

type shimHash struct{ Name, Hash string }

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
		"The binary: JCDS2_UPLOADER_PATH (AutoPkg env or preferences, then the process " +
		"environment) when set; else, beside this file, bin/jcds2-uploader on macOS (universal) " +
		"or bin/jcds2-uploader-<os>-<arch> elsewhere (e.g. linux-amd64, linux-arm64); else " +
		"jcds2-uploader on PATH. Whichever it is, its SHA-256 must be one this shim pins; a " +
		"binary named by JCDS2_UPLOADER_PATH may instead match the SHA-256 given in " +
		"JCDS2_UPLOADER_SHA256."
}

// shimSource renders the shim for the manifest and the binaries' hashes
// (keyed by their file names in bin/).
func shimSource(ver string, hashes map[string]string) ([]byte, error) {
	m := processor.GetManifest()
	data := struct {
		Name, Summary, Description, Version, SecretMarkers string
		SecretInputs, EnvSecrets                           string
		Hashes                                             []shimHash
		Inputs                                             []shimInput
		Outputs                                            []struct{ Name, Description string }
	}{Name: m.Processor, Summary: m.Description, Description: pyWrapped(description(m), "    ", 88), Version: ver,
		SecretMarkers: pyLiteral(m.SecretKeyMarkers)}
	for name, h := range hashes {
		data.Hashes = append(data.Hashes, shimHash{name, h})
	}
	sort.Slice(data.Hashes, func(i, j int) bool { return data.Hashes[i].Name < data.Hashes[j].Name })
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
