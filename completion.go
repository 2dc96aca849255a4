package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jcds2-uploader/jcds2-uploader/processor"
)

// Words to complete after the commands that take no --flags.
var otherFlags = map[string][]string{
	"process":    {"--format"},
	"completion": {"bash", "zsh", "fish"},
}

// helpFlag is a flag as a command's --help lists it ("  --addr ADDRESS  ...").
var helpFlag = regexp.MustCompile(`(?m)^  (--?[a-z][a-z0-9-]*)\b`)

// commandFlags lists a command's flags: pkg's from its table, the other
// commands' from their own --help, so completion never falls behind a
// flag added to one of them.
func commandFlags(name string) []string {
	if fl, ok := otherFlags[name]; ok {
		return fl
	}
	if name == "pkg" {
		var out []string
		for _, f := range processor.PkgFlags {
			if f.Name == "v" {
				out = append(out, "-v")
				continue
			}
			out = append(out, "--"+f.Name)
		}
		return out
	}
	c := lookup(name)
	if c == nil || name == "help" || name == "version" || name == "manifest" {
		return nil
	}
	var help strings.Builder
	c.run(context.Background(), []string{"--help"}, nil, &help, io.Discard)
	var out []string
	for _, m := range helpFlag.FindAllStringSubmatch(help.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
	}
	return out
}

// runCompletion prints a completion script, generated from the command
// table and the flag lists so it never falls behind them.
func runCompletion(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const help = `Usage: jcds2-uploader completion bash|zsh|fish

Prints a shell completion script for jcds2-uploader's commands and flags:

  bash: source <(jcds2-uploader completion bash)
  zsh:  jcds2-uploader completion zsh > "${fpath[1]}/_jcds2-uploader"
  fish: jcds2-uploader completion fish > ~/.config/fish/completions/jcds2-uploader.fish
`
	if len(args) != 1 {
		fmt.Fprint(stderr, "jcds2-uploader completion: name one shell: bash, zsh or fish\nRun 'jcds2-uploader completion --help' for usage.\n")
		return exitUsage
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(stdout, zshCompletion())
	case "fish":
		fmt.Fprint(stdout, fishCompletion())
	case "-h", "--help":
		fmt.Fprint(stdout, help)
	default:
		fmt.Fprintf(stderr, "jcds2-uploader completion: unknown shell %q: bash, zsh or fish\n", args[0])
		return exitUsage
	}
	return exitOK
}

func bashCompletion() string {
	var cases strings.Builder
	for _, c := range commands {
		if fl := commandFlags(c.name); len(fl) > 0 {
			files := ""
			if c.name == "pkg" || c.name == "doctor" {
				files = ` || COMPREPLY=($(compgen -f -- "$cur"))`
			}
			if c.name == "completion" {
				fmt.Fprintf(&cases, "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", c.name, strings.Join(fl, " "))
				continue
			}
			fmt.Fprintf(&cases, "    %s) [[ $cur == -* ]] && COMPREPLY=($(compgen -W %q -- \"$cur\"))%s ;;\n", c.name, strings.Join(fl, " "), files)
		}
	}
	return `# bash completion for jcds2-uploader: source <(jcds2-uploader completion bash)
_jcds2_uploader() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "` + strings.Join(commandNames(), " ") + `" -- "$cur"))
    return
  fi
  case ${COMP_WORDS[1]} in
` + cases.String() + `  esac
}
complete -o default -F _jcds2_uploader jcds2-uploader
`
}

func zshCompletion() string {
	var cases strings.Builder
	for _, c := range commands {
		if fl := commandFlags(c.name); len(fl) > 0 {
			fmt.Fprintf(&cases, "    %s) compadd -- %s; _files ;;\n", c.name, strings.Join(fl, " "))
		}
	}
	return `#compdef jcds2-uploader
# zsh completion for jcds2-uploader: save as _jcds2-uploader in a directory on $fpath
_jcds2_uploader() {
  if (( CURRENT == 2 )); then
    compadd -- ` + strings.Join(commandNames(), " ") + `
    return
  fi
  case $words[2] in
` + cases.String() + `  esac
}
if [ "$funcstack[1]" = "_jcds2-uploader" ] || [ "$funcstack[1]" = "_jcds2_uploader" ]; then
  _jcds2_uploader "$@"
else
  compdef _jcds2_uploader jcds2-uploader
fi
`
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# fish completion for jcds2-uploader: save as ~/.config/fish/completions/jcds2-uploader.fish\n")
	b.WriteString("complete -c jcds2-uploader -f\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "complete -c jcds2-uploader -n __fish_use_subcommand -a %s -d %q\n", c.name, c.summary)
	}
	for _, f := range processor.PkgFlags {
		if f.Name == "v" {
			continue
		}
		req := ""
		if f.Placeholder != "" {
			req = " -r"
		}
		fmt.Fprintf(&b, "complete -c jcds2-uploader -n '__fish_seen_subcommand_from pkg' -l %s%s -d %q\n", f.Name, req, f.Help)
	}
	b.WriteString("complete -c jcds2-uploader -n '__fish_seen_subcommand_from pkg' -F\n")
	for _, name := range []string{"doctor", "sim"} {
		for _, fl := range commandFlags(name) {
			if strings.HasPrefix(fl, "--") {
				fmt.Fprintf(&b, "complete -c jcds2-uploader -n '__fish_seen_subcommand_from %s' -l %s\n", name, fl[2:])
			}
		}
	}
	b.WriteString("complete -c jcds2-uploader -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
	return b.String()
}
