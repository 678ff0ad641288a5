package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// completionShells are the shells `wsstorm completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

// keyFlags are the flags whose value starts with a profile key: --set
// key=value and sweep's --vary key=v1,v2.
var keyFlags = []string{"set", "vary"}

// completionCmd prints a shell's completion script for wsstorm's commands,
// their flags and the profile keys --set takes.
func completionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("completion", "wsstorm completion bash|zsh|fish", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !slices.Contains(completionShells, pos[0]) {
		got := strings.Join(pos, " ")
		if got == "" {
			got = "none"
		}
		return usagef("wsstorm completion: name one shell, bash, zsh or fish (got %s), e.g. source <(wsstorm completion bash)", got)
	}
	spec, err := completionSpecOf(ctx)
	if err != nil {
		return err
	}
	return completionScripts.ExecuteTemplate(stdout, pos[0], spec)
}

// completionSpec is what a completion script knows.
type completionSpec struct {
	Commands []completionCommand
	Keys     []string // profile.SetKeys
	Arrays   []string // keys of arrays of tables: Keys lists their entries at index 0
}

// completionCommand is one command, its flags, and the words its
// positional arguments take (none: file names).
type completionCommand struct {
	Name, Summary string
	Flags         []*flag.Flag
	Args          []string
}

// completionSpecOf builds the spec from the command table and each
// command's own flag set, which its --help hands back, so a script never
// lists a flag a command lacks.
func completionSpecOf(ctx context.Context) (completionSpec, error) {
	var spec completionSpec
	for _, c := range commands() {
		var help *helpError
		if err := c.run(ctx, []string{"--help"}, io.Discard, io.Discard); !errors.As(err, &help) {
			return spec, cannotRunf("wsstorm completion: %s --help did not return its flags (%v): a bug of wsstorm", c.name, err)
		}
		cc := completionCommand{Name: c.name, Summary: strings.TrimSpace(strings.Split(c.summary, ": wsstorm")[0])}
		help.flags.VisitAll(func(f *flag.Flag) { cc.Flags = append(cc.Flags, f) })
		switch c.name {
		case "completion":
			cc.Args = completionShells
		case "clients":
			cc.Args = clientlib.Names()
		}
		spec.Commands = append(spec.Commands, cc)
	}
	spec.Keys = profile.SetKeys()
	for _, k := range spec.Keys {
		if slices.ContainsFunc(spec.Keys, func(s string) bool { return strings.HasPrefix(s, k+".0.") }) {
			spec.Arrays = append(spec.Arrays, k)
		}
	}
	return spec, nil
}

// completionFuncs are the templates' helpers.
var completionFuncs = template.FuncMap{
	"join": strings.Join,
	// names joins the commands' names.
	"names": func(cs []completionCommand) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return strings.Join(out, " ")
	},
	// long writes flags as --name, the spelling the docs use.
	"long": func(fs []*flag.Flag) string {
		var out []string
		for _, f := range fs {
			out = append(out, "--"+f.Name)
		}
		return strings.Join(out, " ")
	},
	// keyFlags lists the flags of fs that take a profile key, in both
	// spellings the flag package accepts.
	"keyFlags": func(fs []*flag.Flag) []string {
		var out []string
		for _, f := range fs {
			if slices.Contains(keyFlags, f.Name) {
				out = append(out, "--"+f.Name, "-"+f.Name)
			}
		}
		return out
	},
	"isKeyFlag":  func(f *flag.Flag) bool { return slices.Contains(keyFlags, f.Name) },
	"takesValue": func(f *flag.Flag) bool { return !isBoolFlag(f) },
	// escape makes a key a regular expression that matches it.
	"escape": func(key string) string { return strings.ReplaceAll(key, ".", `\.`) },
	// quote single-quotes s for a shell: zsh and bash end the quote to
	// write one; fish escapes it.
	"quote":     func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" },
	"fishQuote": func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'" },
	"describe":  describeFlag,
}

// isBoolFlag says whether f takes no value, as the flag package decides.
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// describeFlag is f's usage shortened for a menu: its placeholders
// unquoted, its parenthesized asides dropped, up to its first semicolon.
func describeFlag(f *flag.Flag) string {
	_, usage := flag.UnquoteUsage(f)
	usage, _, _ = strings.Cut(usage, "; ")
	for {
		open := strings.Index(usage, " (")
		end := strings.Index(usage[max(open, 0):], ")")
		if open < 0 || end < 0 {
			return strings.TrimSpace(usage)
		}
		usage = usage[:open] + usage[open+end+1:]
	}
}

var completionScripts = template.Must(template.New("").Funcs(completionFuncs).Parse(bashCompletion + zshCompletion + fishCompletion))

// bashCompletion completes the command, then a command's flags after "-",
// profile keys after --set and --vary, and file names otherwise (through
// -o default). An array's entries are listed at index 0 and completed at
// any index.
const bashCompletion = `{{define "bash"}}# bash completion for wsstorm, written by ` + "`wsstorm completion bash`" + `.
# Load it in this shell with: source <(wsstorm completion bash)
# or for every shell: wsstorm completion bash > ~/.local/share/bash-completion/completions/wsstorm

_wsstorm_keys() {
	local cur=$1 keys='{{join .Keys " "}}'
	compopt -o nospace 2>/dev/null
{{- range .Arrays}}
	if [[ $cur =~ ^{{escape .}}\.([0-9]+)\. ]]; then
		local n=${BASH_REMATCH[1]}
		COMPREPLY=($(compgen -W "$keys" -- "{{.}}.0.${cur#{{.}}.$n.}"))
		COMPREPLY=("${COMPREPLY[@]/#{{.}}.0./{{.}}.$n.}")
		return
	fi
{{- end}}
	COMPREPLY=($(compgen -W "$keys" -- "$cur"))
}

_wsstorm() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local flags= keyflags= args=
	COMPREPLY=()
	# --set=KEY: bash splits the word at "=".
	if [[ $prev == = && $COMP_CWORD -ge 3 ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == = ]]; then
		cur=
	fi
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W '{{names .Commands}} help --help --version' -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
{{- range .Commands}}
	{{.Name}}) flags='{{long .Flags}}' keyflags='{{join (keyFlags .Flags) " "}}' args='{{join .Args " "}}' ;;
{{- end}}
	help) flags= args='{{names .Commands}}' ;;
	*) return ;;
	esac
	if [[ -n $keyflags && " $keyflags " == *" $prev "* ]]; then
		_wsstorm_keys "$cur"
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
	elif [[ -n $args ]]; then
		COMPREPLY=($(compgen -W "$args" -- "$cur"))
	fi
}

complete -o default -F _wsstorm wsstorm
{{end}}`

// zshCompletion does what bashCompletion does, with the commands'
// summaries; it works sourced (after compinit) and as an autoloaded
// _wsstorm in $fpath.
const zshCompletion = `{{define "zsh"}}#compdef wsstorm
# zsh completion for wsstorm, written by ` + "`wsstorm completion zsh`" + `.
# Load it in this shell (after compinit) with: source <(wsstorm completion zsh)
# or for every shell: wsstorm completion zsh > DIR/_wsstorm, for a directory DIR of $fpath

_wsstorm_keys() {
	local -a keys
	keys=({{join .Keys " "}})
{{- range .Arrays}}
	if [[ $PREFIX =~ '^{{escape .}}\.([0-9]+)\.' ]]; then
		keys=(${keys/#{{.}}.0./{{.}}.$match[1].})
	fi
{{- end}}
	compadd -S '' -- $keys
}

_wsstorm() {
	local -a commands flags keyflags args
	commands=(
{{- range .Commands}}
		{{quote (print .Name ":" .Summary)}}
{{- end}}
		{{quote "help:show the commands, or a command's flags"}}
	)
	if (( CURRENT == 2 )); then
		_describe command commands
		compadd -- --help --version
		return
	fi
	case $words[2] in
{{- range .Commands}}
	{{.Name}}) flags=({{long .Flags}}) keyflags=({{join (keyFlags .Flags) " "}}) args=({{join .Args " "}}) ;;
{{- end}}
	help) args=({{names .Commands}}) ;;
	*) return 1 ;;
	esac
	local prev=$words[CURRENT-1]
	if (( ${keyflags[(Ie)$prev]} )); then
		_wsstorm_keys
	elif [[ $PREFIX == -* ]]; then
		compadd -- $flags --help
	elif (( $#args )); then
		compadd -- $args
	else
		_files
	fi
}

if [[ $funcstack[1] == _wsstorm ]]; then
	_wsstorm "$@"
else
	compdef _wsstorm wsstorm
fi
{{end}}`

// fishCompletion does what bashCompletion does, with the commands' and
// flags' descriptions.
const fishCompletion = `{{define "fish"}}# fish completion for wsstorm, written by ` + "`wsstorm completion fish`" + `.
# Load it in this shell with: wsstorm completion fish | source
# or for every shell: wsstorm completion fish > ~/.config/fish/completions/wsstorm.fish

function __wsstorm_keys
	# The key being written, without a --set= before it.
	set -l tok (string replace -r -- '^-[^=]*=' '' (commandline -ct))
	set -l keys {{join .Keys " "}}
{{- range .Arrays}}
	set -l m (string match -r -- '^{{escape .}}\.([0-9]+)\.' $tok)
	if set -q m[2]
		string replace -r -- '^{{escape .}}\.0\.' "{{.}}.$m[2]." $keys
		return
	end
{{- end}}
	printf '%s\n' $keys
end

complete -c wsstorm -n __fish_use_subcommand -f -l help -d 'show the commands'
complete -c wsstorm -n __fish_use_subcommand -f -l version -d 'print the version'
complete -c wsstorm -n __fish_use_subcommand -f -a help -d 'show the commands, or a command\'s flags'
complete -c wsstorm -n '__fish_seen_subcommand_from help' -f -a {{fishQuote (names .Commands)}}
{{- range $c := .Commands}}
complete -c wsstorm -n __fish_use_subcommand -f -a {{$c.Name}} -d {{fishQuote $c.Summary}}
{{- range $c.Flags}}

{{- if isKeyFlag .}}
complete -c wsstorm -n '__fish_seen_subcommand_from {{$c.Name}}' -l {{.Name}} -x -a '(__wsstorm_keys)'
{{- end}}
complete -c wsstorm -n '__fish_seen_subcommand_from {{$c.Name}}' -l {{.Name}}
{{- if isKeyFlag .}} -x{{else if takesValue .}} -r{{end}} -d {{fishQuote (describe .)}}
{{- end}}
{{- if $c.Args}}
complete -c wsstorm -n '__fish_seen_subcommand_from {{$c.Name}}' -f -a {{fishQuote (join $c.Args " ")}}
{{- end}}
{{- end}}
{{end}}`
