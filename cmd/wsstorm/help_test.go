package main

import (
	"strings"
	"testing"
)

// TestHelpOnStdout: help a user asks for, of wsstorm or of any command, is
// output (exit 0, stdout, nothing on stderr), so `wsstorm run --help | less`
// works; help shown for bad usage stays on stderr with exit 2.
func TestHelpOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}, {"help", "help"}, {"help", "--help"}} {
		code, stdout, stderr := wsstorm(t, args...)
		if code != exitPassed || stderr != "" || !strings.Contains(stdout, "Commands:") {
			t.Errorf("wsstorm %s: exit %d\nstdout:\n%s\nstderr:\n%s", args[0], code, stdout, stderr)
		}
		for _, c := range commands() {
			if !strings.Contains(stdout, "\n  "+c.name+" ") {
				t.Errorf("wsstorm %s does not list %s:\n%s", args[0], c.name, stdout)
			}
		}
	}
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			code, stdout, stderr := wsstorm(t, args...)
			if code != exitPassed || stderr != "" || !strings.HasPrefix(stdout, "usage: wsstorm "+c.name) {
				t.Errorf("wsstorm %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
			}
		}
	}
	// Help after a positional argument, which parseFlags reaches on a
	// second pass.
	if code, stdout, _ := wsstorm(t, "run", "some.toml", "--help"); code != exitPassed || !strings.Contains(stdout, "-out DIR") {
		t.Errorf("wsstorm run some.toml --help: exit %d\n%s", code, stdout)
	}
}

// TestBadUsageOnStderr: usage that answers a mistake goes to stderr, with
// exit 2 and nothing on stdout.
func TestBadUsageOnStderr(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Commands:"},
		{[]string{"run", "--bogus"}, "usage: wsstorm run"},
		{[]string{"proxy", "--nodes", "many"}, "usage: wsstorm proxy"},
		{[]string{"help", "storm"}, `unknown command "storm"`},
		{[]string{"--version", "extra"}, "no arguments"},
	} {
		code, stdout, stderr := wsstorm(t, tc.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("wsstorm %s: exit %d, want %d with %q on stderr\nstdout:\n%s\nstderr:\n%s",
				strings.Join(tc.args, " "), code, exitUsage, tc.want, stdout, stderr)
		}
	}
}

// TestVersionFlag: `wsstorm --version` is `wsstorm version`.
func TestVersionFlag(t *testing.T) {
	_, want, _ := wsstorm(t, "version")
	if !strings.HasPrefix(want, "wsstorm ") {
		t.Fatalf("wsstorm version printed %q", want)
	}
	for _, flag := range []string{"--version", "-version"} {
		code, stdout, stderr := wsstorm(t, flag)
		if code != exitPassed || stdout != want || stderr != "" {
			t.Errorf("wsstorm %s: exit %d, stdout %q (want %q), stderr %q", flag, code, stdout, want, stderr)
		}
	}
}
