// Command wsstorm is a chaos and load tester for WebSocket services: a fleet
// of simulated clients rides through server restarts (close code 1012) and
// clean closes (1000) while wsstorm measures reconnect latency and the herd.
//
// Each file of the command parses one subcommand's flags and calls the
// packages that do the work; a subcommand returns an error, and dispatch
// alone turns it into the exit code and the message users see.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// Exit codes (contract: DESIGN.md).
const (
	exitPassed      = 0
	exitFailed      = 1   // thresholds or comparison failed
	exitUsage       = 2   // bad usage or invalid profile
	exitCannotRun   = 3   // target unreachable, limits too low; a comparison inconclusive
	exitInterrupted = 130 // SIGINT or SIGTERM
)

// The errors of the subcommands, one type per exit code but 0. A message is
// the text users see, "wsstorm CMD: " or "wsstorm: " included, one line per
// problem; an empty one prints nothing, when the command's output or the
// flag package has said it already.
type (
	// failedError: the thresholds or a comparison failed (exit 1).
	failedError struct{ message }
	// usageError: bad usage or an invalid profile (exit 2).
	usageError struct{ message }
	// cannotRunError: the run could not be carried out (exit 3).
	cannotRunError struct{ message }
	// interruptedError: a signal stopped the command (exit 130).
	interruptedError struct{ message }
)

// message is the text of a subcommand's error.
type message struct{ msg string }

// Error returns the message.
func (m *message) Error() string { return m.msg }

// redact applies redact (a profile's Redact) to the message: secrets must
// not reach stderr in an error more than in a log line.
func (m *message) redact(redact func(string) string) { m.msg = redact(m.msg) }

// usagef, cannotRunf and interruptedf make the typed errors from a format.
func usagef(format string, a ...any) error {
	return &usageError{message{fmt.Sprintf(format, a...)}}
}
func cannotRunf(format string, a ...any) error {
	return &cannotRunError{message{fmt.Sprintf(format, a...)}}
}
func interruptedf(format string, a ...any) error {
	return &interruptedError{message{fmt.Sprintf(format, a...)}}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands, in the order usage shows them.
func commands() []command {
	return []command{
		{"run", "run a storm: wsstorm run [PROFILE] [--out DIR] [--set key=value]...", runCmd},
		{"sweep", "run a profile over a grid of settings and recommend one: wsstorm sweep [PROFILE] --vary KEY=V1,V2,... [--repeat R] [--out DIR]", sweepCmd},
		{"simulate", "simulate a storm without sockets, up to a million clients: wsstorm simulate [PROFILE] [--clients N] [--calibrate RESULT_DIR | --model FILE] [--out DIR]", simulateCmd},
		{"validate", "check profiles without running them: wsstorm validate [PROFILE]...", validateCmd},
		{"protocols", "list the protocol presets (fleet.protocol) and their options: wsstorm protocols [NAME]...", protocolsCmd},
		{"clients", "list the client-library presets (fleet.client); with NAME, their options: wsstorm clients [NAME]...", clientsCmd},
		{"report", "render a run's results: wsstorm report DIR [--format text|markdown|json|html] [--output FILE]", reportCmd},
		{"merge", "merge a split run's segments into one run's results: wsstorm merge DIR... --out DIR [--junit FILE]", mergeCmd},
		{"compare", "compare a run against a baseline: wsstorm compare BASE NEW [--tolerance metric=+10%]...", compareCmd},
		{"serve", "run the embedded target as a server with an admin API: wsstorm serve [PROFILE] [--nodes N] [--listen ADDR] [--admin ADDR] [--log FILE]", serveCmd},
		{"proxy", "a chaos proxy in front of a WebSocket server: wsstorm proxy --upstream URL [--listen ADDR] [--nodes N] [--admin ADDR]", proxyCmd},
		{"version", "print the version", versionCmd},
		{"completion", "print a shell completion script: wsstorm completion bash|zsh|fish", completionCmd},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand args name and returns the process's exit
// code: the one place where errors become exit codes and messages.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		// Asked-for help is output, for `wsstorm --help | less`.
		if len(args) == 1 || strings.TrimLeft(args[1], "-") == "help" || strings.TrimLeft(args[1], "-") == "h" {
			usage(stdout) // wsstorm help, wsstorm help --help
			return exitPassed
		}
		args = []string{args[1], "--help"} // wsstorm help COMMAND
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(c.run(context.Background(), args[1:], stdout, stderr), stdout, stderr)
		}
	}
	return exitCode(usagef("wsstorm: unknown command %q; run `wsstorm --help` for the list", args[0]), stdout, stderr)
}

// exitCode prints err's message, if it has one, and returns its exit code.
// An error of no type above is one the run could not get past (exit 3).
// Help a command was asked for goes to stdout, and exits 0.
func exitCode(err error, stdout, stderr io.Writer) int {
	var help *helpError
	if errors.As(err, &help) {
		io.WriteString(stdout, help.usage)
		return exitPassed
	}
	if err == nil {
		return exitPassed
	}
	var (
		failed      *failedError
		badUsage    *usageError
		interrupted *interruptedError
	)
	code := exitCannotRun
	switch {
	case errors.As(err, &failed):
		code = exitFailed
	case errors.As(err, &badUsage):
		code = exitUsage
	case errors.As(err, &interrupted):
		code = exitInterrupted
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return code
}

// usage lists the subcommands and the exit codes.
func usage(w io.Writer) {
	fmt.Fprintln(w, "wsstorm: chaos and load testing of WebSocket services")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 passed, 1 thresholds failed or a comparison found a regression, 2 bad usage or invalid profile, 3 run could not be carried out (or a comparison was inconclusive on a busy machine), 130 interrupted.")
	fmt.Fprintln(w, "Run `wsstorm COMMAND --help` for a command's flags.")
}

// untilSignal returns a context that ends at the first SIGINT or SIGTERM.
// The command then winds down; the signals' default action is back, so a
// second one ends the process at once (results files are renamed into
// place whole, so they are complete or absent).
func untilSignal(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, cancel)
	return ctx, cancel
}

// parseFlags parses flags that may come before or after positional
// arguments, as `wsstorm run PROFILE --out DIR` needs, and returns the
// positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseArgs(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// helpError is --help given to a command: its usage, for stdout, and its
// flags, which the completion scripts list.
type helpError struct {
	usage string
	flags *flag.FlagSet
}

func (h *helpError) Error() string { return h.usage }

// parseArgs is fs.Parse(args) with one difference: --help (or -h) is a
// *helpError carrying the usage rather than usage printed to fs's output,
// which is stderr. Any other error is bad usage, and the flag package's
// message and the usage go to stderr as before.
func parseArgs(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return &helpError{usage: buf.String(), flags: fs}
	}
	out.Write(buf.Bytes())
	return &usageError{}
}

// newFlagSet returns a flag set that reports errors as one line.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// onePath is the profile path among a command's positional arguments: ""
// (the built-in default) when there is none.
func onePath(name string, pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "", nil
	case 1:
		return pos[0], nil
	}
	return "", usagef("wsstorm %s: one profile at a time, got %d: %v", name, len(pos), pos)
}

// loadProfile loads the profile at path ("": the built-in default) with
// the --set overrides sets; its error lists every problem.
func loadProfile(path string, sets []string) (*profile.Profile, error) {
	p, err := profile.Load(path, sets)
	if err != nil {
		return nil, profileError("", err)
	}
	return p, nil
}

// profileError is a usage error that lists every problem of a profile, one
// per line, under head if it is not "".
func profileError(head string, err error) error {
	var msgs []string
	if head != "" {
		msgs = append(msgs, head)
	}
	var errs profile.Errors
	if !errors.As(err, &errs) {
		return &usageError{message{strings.Join(append(msgs, "wsstorm: "+err.Error()), "\n")}}
	}
	for _, e := range errs {
		msgs = append(msgs, "wsstorm: "+e.Error())
	}
	return &usageError{message{strings.Join(msgs, "\n")}}
}

// redacted returns err with redact (a profile's Redact) applied to its
// message.
func redacted(err error, redact func(string) string) error {
	var m interface{ redact(func(string) string) }
	if errors.As(err, &m) {
		m.redact(redact)
		return err
	}
	if err != nil {
		return errors.New(redact(err.Error()))
	}
	return nil
}
