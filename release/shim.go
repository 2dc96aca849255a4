package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"

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
		b, _ := json.Marshal(x) // a JSON string is a valid Python string
		return string(b)
	case int, int64, uint64:
		return fmt.Sprint(x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = pyLiteral(s)
		}
		return "(" + strings.Join(parts, ", ") + ",)"
	}
	panic(fmt.Sprintf("no Python literal for %T", v))
}

type shimInput struct {
	Name, Required, Default, Description string
	HasDefault                           bool
}

type shimHash struct{ Name, Hash string }

// shimSource renders the shim for the manifest and the binaries' hashes.
func shimSource(ver string, hashes map[string]string) ([]byte, error) {
	m := processor.GetManifest()
	data := struct {
		Name, Description, Version, SecretMarkers string
		Hashes                                    []shimHash
		Inputs                                    []shimInput
		Outputs                                   []struct{ Name, Description string }
	}{Name: m.Processor, Description: m.Description, Version: ver, SecretMarkers: pyLiteral(m.SecretKeyMarkers)}
	for name, h := range hashes {
		data.Hashes = append(data.Hashes, shimHash{name, h})
	}
	sort.Slice(data.Hashes, func(i, j int) bool { return data.Hashes[i].Name < data.Hashes[j].Name })
	for _, in := range m.Inputs {
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
