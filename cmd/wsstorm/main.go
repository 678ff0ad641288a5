// Command wsstorm is a chaos and load tester for WebSocket services: a fleet
// of simulated clients rides through server restarts (close code 1012) and
// clean closes (1000) while wsstorm measures reconnect latency and the herd.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes (contract: DESIGN.md).
const (
	exitPassed      = 0
	exitFailed      = 1   // thresholds or comparison failed
	exitUsage       = 2   // bad usage or invalid profile
	exitCannotRun   = 3   // target unreachable, limits too low
	exitInterrupted = 130 // SIGINT or SIGTERM
)

// command is one subcommand: it returns the process's exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run a storm: wsstorm run [PROFILE] [--out DIR] [--set key=value]...", runCmd},
		{"sweep", "run a profile over a grid of settings and recommend one: wsstorm sweep [PROFILE] --vary KEY=V1,V2,... [--repeat R] [--out DIR]", sweepCmd},
		{"simulate", "simulate a storm without sockets, up to a million clients: wsstorm simulate [PROFILE] [--clients N] [--calibrate RESULT_DIR | --model FILE] [--out DIR]", simulateCmd},
		{"validate", "check profiles without running them: wsstorm validate PROFILE...", validateCmd},
		{"report", "render a run's results: wsstorm report DIR [--format text|markdown|json|html] [--output FILE]", reportCmd},
		{"merge", "merge a split run's segments into one run's results: wsstorm merge DIR... --out DIR [--junit FILE]", mergeCmd},
		{"compare", "compare a run against a baseline: wsstorm compare BASE NEW [--tolerance metric=+10%]...", compareCmd},
		{"serve", "run the embedded target as a server with an admin API: wsstorm serve [PROFILE] [--nodes N] [--listen ADDR] [--admin ADDR] [--log FILE]", serveCmd},
		{"proxy", "a chaos proxy in front of a WebSocket server: wsstorm proxy --upstream URL [--listen ADDR] [--nodes N] [--admin ADDR]", proxyCmd},
		{"version", "print the version", versionCmd},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitPassed
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "wsstorm: unknown command %q; run `wsstorm --help` for the list\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wsstorm: chaos and load testing of WebSocket services")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 passed, 1 thresholds failed, 2 bad usage or invalid profile, 3 run could not be carried out, 130 interrupted.")
	fmt.Fprintln(w, "Run `wsstorm COMMAND --help` for a command's flags.")
}

// parseInterspersed parses flags that may come before or after positional
// arguments, as `wsstorm run PROFILE --out DIR` needs.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newFlagSet returns a flag set that reports errors as one line.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// flagExit maps a flag parse error to an exit code.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitPassed
	}
	return exitUsage
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
