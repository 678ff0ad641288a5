package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/storm"
)

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "wsstorm run [PROFILE] [--out DIR] [--set key=value]...", stderr)
	out := fs.String("out", "", "write results to `DIR` (default results/<profile>/<UTC time>/)")
	var sets stringList
	fs.Var(&sets, "set", "override a profile key, e.g. --set fleet.clients=5000 (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "wsstorm run: one profile at a time, got %d: %v\n", len(pos), pos)
		return exitUsage
	}
	path := ""
	if len(pos) == 1 {
		path = pos[0]
	}
	p, err := profile.Load(path, sets)
	if err != nil {
		printProfileError(stderr, err)
		return exitUsage
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(stderr, "wsstorm: running profile %s (%s): %d clients for %s\n", p.Name, p.Path, p.Fleet.Clients, p.Duration.D())
	run, err := storm.Run(ctx, p, storm.Options{Log: prefixed(stderr, "wsstorm: ")})
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		if errors.Is(err, storm.ErrCannotRun) {
			return exitCannotRun
		}
		return exitCannotRun
	}
	dir := *out
	if dir == "" {
		dir = report.DefaultDir("results", p.Name, run.Results.Started)
	}
	sum, err := report.Write(dir, run)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: writing results: %v\n", err)
		return exitCannotRun
	}
	if err := report.WriteText(stdout, sum, dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
	}
	switch {
	case run.Interrupted:
		return exitInterrupted
	case !sum.Passed:
		return exitFailed
	}
	return exitPassed
}

// printProfileError prints every problem of a profile, one per line.
func printProfileError(w io.Writer, err error) {
	var errs profile.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintf(w, "wsstorm: %v\n", e)
		}
		return
	}
	fmt.Fprintf(w, "wsstorm: %v\n", err)
}

// prefixWriter prefixes every write (one line each) with a fixed string.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func prefixed(w io.Writer, prefix string) io.Writer { return &prefixWriter{w, prefix} }

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
