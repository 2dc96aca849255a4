package processor

import (
	"fmt"
	"strings"
)

// MarkdownTables renders the manifest's inputs and outputs for
// docs/inputs.md; a test keeps that page in step with it.
func MarkdownTables() string {
	var b strings.Builder
	b.WriteString("| Input | Required | Default | What it does |\n|---|---|---|---|\n")
	for _, in := range Inputs {
		def := "–"
		if in.Default != nil {
			def = fmt.Sprintf("`%v`", in.Default)
			if in.Default == "" {
				def = "`\"\"`"
			}
		}
		desc := in.Description
		if in.Unsupported != "" {
			desc = "Not implemented: " + in.Unsupported + ". Any value but the default stops the run before anything is written."
		}
		if in.Ours {
			desc = "*(ours)* " + desc
		}
		req := "no"
		if in.Required {
			req = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", in.Name, req, def, strings.ReplaceAll(desc, "|", "\\|"))
	}
	b.WriteString("\n| Output | What it holds |\n|---|---|\n")
	for _, o := range Outputs {
		desc := o.Description
		if o.Ours {
			desc = "*(ours)* " + desc
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, desc)
	}
	return b.String()
}
