package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// completionScript writes `wsstorm completion shell` to a file and returns
// its path.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	code, stdout, stderr := wsstorm(t, "completion", shell)
	if code != exitPassed || stderr != "" {
		t.Fatalf("wsstorm completion %s: exit %d\n%s", shell, code, stderr)
	}
	path := filepath.Join(t.TempDir(), "wsstorm."+shell)
	if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompletionScripts: each shell's script names every command, run's
// flags and the profile's keys, and, where the shell is installed, parses.
func TestCompletionScripts(t *testing.T) {
	flagOf := map[string]string{"bash": "--out", "zsh": "--out", "fish": "-l out"}
	for _, shell := range completionShells {
		t.Run(shell, func(t *testing.T) {
			path := completionScript(t, shell)
			data, _ := os.ReadFile(path)
			script := string(data)
			wants := []string{flagOf[shell], "fleet.reconnect.strategy", "chaos.0.at", "target.capacity.accept_rate"}
			for _, c := range commands() {
				wants = append(wants, c.name)
			}
			for _, want := range wants {
				if !strings.Contains(script, want) {
					t.Errorf("the %s script lacks %s", shell, want)
				}
			}
			if _, err := exec.LookPath(shell); err != nil {
				t.Logf("%s is not installed: its script's syntax is not checked", shell)
				return
			}
			if out, err := exec.Command(shell, "-n", path).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if code, _, stderr := wsstorm(t, args...); code != exitUsage || !strings.Contains(stderr, "bash, zsh or fish") {
			t.Errorf("wsstorm %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
	}
}

// completionCases are command lines and what completing their last word
// offers, in each shell.
var completionCases = []struct {
	words []string
	want  []string
}{
	{[]string{"wsstorm", "ru"}, []string{"run"}},
	{[]string{"wsstorm", "run", "--o"}, []string{"--out"}},
	{[]string{"wsstorm", "run", "--set", "fleet.rec"}, keysUnder("fleet.reconnect.")},
	{[]string{"wsstorm", "sweep", "--vary", "fleet.reconnect.ma"}, keysUnder("fleet.reconnect.ma")},
	// A step's keys, at any index.
	{[]string{"wsstorm", "run", "--set", "chaos.3.do"}, []string{"chaos.3.downtime"}},
	{[]string{"wsstorm", "completion", "z"}, []string{"zsh"}},
}

// keysUnder lists the profile keys that start with prefix.
func keysUnder(prefix string) []string {
	var out []string
	for _, k := range profile.SetKeys() {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// TestBashCompletion completes command lines with the bash script's
// function, as bash does on TAB.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	path := completionScript(t, "bash")
	for _, tc := range completionCases {
		words := make([]string, len(tc.words))
		for i, w := range tc.words {
			words[i] = "'" + w + "'"
		}
		cmd := exec.Command("bash", "-c", `source "$1" && COMP_WORDS=(`+strings.Join(words, " ")+`) &&
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _wsstorm; printf '%s\n' "${COMPREPLY[@]}"`, "bash", path)
		checkCompleted(t, cmd, tc.words, tc.want)
	}
}

// TestFishCompletion completes command lines with fish's own completer,
// where fish is installed.
func TestFishCompletion(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish is not installed")
	}
	path := completionScript(t, "fish")
	for _, tc := range completionCases {
		// complete -C prints "candidate<TAB>description".
		cmd := exec.Command("fish", "-c", `source $argv[1]; complete -C $argv[2] | string replace -r '\t.*' ''; true`,
			path, strings.Join(tc.words, " "))
		checkCompleted(t, cmd, tc.words, tc.want)
	}
}

// checkCompleted runs cmd, which prints the candidates for completing
// words one per line, and checks they are want.
func checkCompleted(t *testing.T, cmd *exec.Cmd, words, want []string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("completing %q: %v\n%s", strings.Join(words, " "), err, out)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("completing %q offers\n  %v\nwant\n  %v", strings.Join(words, " "), got, want)
	}
}

// TestZshCompletion runs the zsh script's function, where zsh is
// installed, with stand-ins for the completion system's builtins that print
// the candidates matching the word, as the real ones would offer them.
func TestZshCompletion(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("zsh is not installed")
	}
	path := completionScript(t, "zsh")
	const stubs = `
compadd() { local -a w; w=(${@[(r)--,-1]}); shift w; print -l -- ${(M)w:#${PREFIX}*} }
_describe() { local -a w; w=(${(P)2}); print -l -- ${(M)${w%%:*}:#${PREFIX}*} }
_files() { }
compdef() { }
`
	for _, tc := range completionCases {
		cmd := exec.Command("zsh", "-c", stubs+`source $1; words=(${@:2}); CURRENT=$#words; PREFIX=$words[-1]; _wsstorm; true`,
			"zsh", path)
		cmd.Args = append(cmd.Args, tc.words...)
		checkCompleted(t, cmd, tc.words, tc.want)
	}
}
