package processor

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// The commands other than pkg (doctor, sim) parse with the flag package
// but speak as pkg does: help on stdout with --flag spellings and
// placeholders (taken from `backquotes` in a flag's usage, never Go type
// names), and an unknown flag as one line with a "did you mean" and a
// pointer to --help, exit 2.

// ParseCommandFlags parses args into fs. about is the help text before
// the flag list; extra lists flags fs does not hold (-v). When it returns
// stop, the command ends with code: 0 after --help, ExitUsage after a bad
// flag or a refused secret.
func ParseCommandFlags(fs *flag.FlagSet, args []string, about string, extra []FlagDoc, stdout, stderr io.Writer) (code int, stop bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	extra = append(extra[:len(extra):len(extra)], FlagDoc{Name: "help", Help: "this help; also -h"})
	err := fs.Parse(args)
	if err == nil {
		return 0, false
	}
	if err == flag.ErrHelp {
		fmt.Fprint(stdout, about+"\nFlags:\n"+FlagSetHelp(fs, extra))
		return 0, true
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	for _, f := range extra {
		names = append(names, f.Name)
	}
	fmt.Fprintf(stderr, "jcds2-uploader %s: %v\n", fs.Name(), flagError(err, names))
	fmt.Fprintf(stderr, "%s\nRun 'jcds2-uploader %s --help' for the flags.\n", strings.SplitN(about, "\n", 2)[0], fs.Name())
	return ExitUsage, true
}

// FlagSetHelp lists fs's flags (and extra) as people type them.
func FlagSetHelp(fs *flag.FlagSet, extra []FlagDoc) string {
	var docs []FlagDoc
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, usage := flag.UnquoteUsage(f)
		if placeholder != "" {
			placeholder = strings.ToUpper(placeholder)
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		docs = append(docs, FlagDoc{Name: f.Name, Placeholder: placeholder, Help: usage})
	})
	docs = append(docs, extra...)
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Name < docs[j].Name })
	return flagList(docs)
}

// flagList renders docs one a line: --name PLACEHOLDER  help.
func flagList(docs []FlagDoc) string {
	var b strings.Builder
	for _, f := range docs {
		spell := "--" + f.Name
		if len(f.Name) == 1 {
			spell = "-" + f.Name
		}
		if f.Placeholder != "" {
			spell += " " + f.Placeholder
		}
		fmt.Fprintf(&b, "  %-26s %s\n", spell, f.Help)
	}
	return b.String()
}
