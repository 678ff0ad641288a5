package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/live"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/storm"
)

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "wsstorm run [PROFILE] [--out DIR] [--set key=value]... [--quiet] [--metrics-addr ADDR] [--processes N | --segment I/N [--start-at TIME] [--chaos on|off] [--target-admin URL,...]]", stderr)
	out := fs.String("out", "", "write results to `DIR` (default results/<profile>/<UTC time>/)")
	junit := fs.String("junit", "", "also write the thresholds' verdicts as JUnit XML to `FILE`")
	var sets stringList
	fs.Var(&sets, "set", "override a profile key, e.g. --set fleet.clients=5000 (repeatable)")
	quiet := fs.Bool("quiet", false, "show no live status on stderr during the run")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics during the run (a missing host is 127.0.0.1)")
	var sp splitFlags
	sp.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *metricsAddr != "" {
		if *metricsAddr, err = live.ListenAddr(*metricsAddr); err != nil {
			fmt.Fprintf(stderr, "wsstorm run: --metrics-addr: %v\n", err)
			return exitUsage
		}
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
	if err := sp.check(p); err != nil {
		fmt.Fprintf(stderr, "wsstorm run: %v\n", err)
		return exitUsage
	}
	if sp.processes > 0 && *metricsAddr != "" {
		fmt.Fprintln(stderr, "wsstorm run: --metrics-addr is not available with --processes, whose segments each have their own numbers: run the segments yourself with --segment and give each its own --metrics-addr")
		return exitUsage
	}
	if sp.processes > 0 {
		return runProcesses(p, path, sets, &sp, *out, *junit, stdout, stderr)
	}

	// Limits first: a run that cannot fit leaves nothing behind.
	if err := storm.CheckLimits(p, sp.limits()); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		return exitCannotRun
	}
	if w := storm.PortsWarning(p, sp.limits()); w != "" {
		fmt.Fprintf(stderr, "wsstorm: warning: %s\n", w)
	}
	// Find out now, not after the run, whether the results can be written.
	dir := *out
	if dir == "" {
		dir = uniqueDir(results.DefaultDir("results", p.Name, time.Now()))
	}
	if err := checkWritable(dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: cannot write results to %s: %v; choose another directory with --out\n", dir, err)
		return exitCannotRun
	}

	// The metrics endpoint comes up before the run, so a taken address
	// stops it before anything starts.
	var metrics *live.Collector
	if *metricsAddr != "" {
		metrics = live.NewCollector(storm.SegmentClients(p.Fleet.Clients, sp.segment, sp.segments), p.Duration.D())
		mctx, mstop := context.WithCancel(context.Background())
		srv, err := live.Serve(mctx, *metricsAddr, metrics)
		if err != nil {
			mstop()
			suggest := "127.0.0.1:0" // any free loopback port
			if errors.Is(err, syscall.EADDRINUSE) {
				suggest = otherPort(*metricsAddr)
			}
			fmt.Fprintf(stderr, "wsstorm: %v; choose another address with --metrics-addr, e.g. %s\n", err, suggest)
			_ = os.Remove(dir) // only if empty: nothing was measured
			return exitCannotRun
		}
		defer func() { mstop(); _ = srv.Wait() }()
		if !srv.Loopback() {
			fmt.Fprintf(stderr, "wsstorm: warning: metrics on %s can be reached from other machines; use 127.0.0.1:PORT to keep them local\n", srv.Addr())
		}
		fmt.Fprintf(stderr, "wsstorm: metrics at %s\n", srv.URL())
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// After the first signal the run winds down; a second one ends the
	// process at once (results files are renamed into place whole, so they
	// are complete or absent).
	context.AfterFunc(ctx, cancel)
	clients := storm.SegmentClients(p.Fleet.Clients, sp.segment, sp.segments)
	if sp.segments > 0 {
		fmt.Fprintf(stderr, "wsstorm: running segment %d/%d of profile %s (%s): %d of its %d clients for %s, chaos %s\n",
			sp.segment, sp.segments, p.Name, p.Path, clients, p.Fleet.Clients, p.Duration.D(), onOff(sp.drives()))
	} else {
		fmt.Fprintf(stderr, "wsstorm: running profile %s (%s): %d clients for %s\n", p.Name, p.Path, p.Fleet.Clients, p.Duration.D())
	}
	width, tty := live.Terminal(stderr)
	// Secrets from the environment must not reach a log, even inside an
	// error's text (a URL in a dial error).
	stderr = lines.Redacted(stderr, p.Redact)
	logw := lines.Prefixed(stderr, "wsstorm: ")
	var view *live.View
	if !*quiet {
		view = live.NewView(live.ViewOptions{
			Out: stderr, Terminal: tty, Width: width, Prefix: "wsstorm: ",
			Clients: clients, Duration: p.Duration.D(),
		})
		// Log lines clear the status and draw it again below them.
		logw = view.LogWriter(logw)
	}
	observe := func(ctx context.Context, rec *stats.Recorder) {
		if metrics != nil {
			metrics.Attach(rec)
		}
		if view != nil {
			view.Run(ctx, rec)
		}
	}
	opts := storm.Options{Log: logw, Observe: observe}
	if err := sp.apply(ctx, &opts); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		_ = os.Remove(dir)
		return exitCannotRun
	}
	run, err := storm.Run(ctx, p, opts)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
		_ = os.Remove(dir) // only if empty: nothing was measured
		if errors.Is(err, storm.ErrNotStarted) {
			return exitInterrupted
		}
		return exitCannotRun
	}
	if sp.segments > 0 {
		run.Segment = &results.Segment{Index: sp.segment, Count: sp.segments, StartAt: sp.startAt, Chaos: sp.drives(), Clients: clients}
	}
	return finishRun(stdout, stderr, dir, p, run, *junit)
}

// finishRun writes the results of run, a run of profile p, to dir, prints
// its summary and returns the exit code of its outcome.
func finishRun(stdout, stderr io.Writer, dir string, p *profile.Profile, run *results.Run, junit string) int {
	sum, werr := report.Write(dir, p, run)
	// The summary is printed even when the files could not be written.
	if err := report.WriteText(stdout, sum, dir); err != nil {
		fmt.Fprintf(stderr, "wsstorm: %v\n", err)
	}
	var extras *results.ExtrasError
	if errors.As(werr, &extras) {
		// summary.json and the rest of the contract are written: the verdict stands.
		fmt.Fprintf(stderr, "wsstorm: warning: results are in %s, but %v\n", dir, werr)
		werr = nil
	}
	if werr != nil {
		fmt.Fprintf(stderr, "wsstorm: writing results to %s: %v\n", dir, werr)
		return exitCannotRun
	}
	if junit != "" {
		if err := report.WriteJUnit(junit, "thresholds", report.ThresholdCases(sum)); err != nil {
			fmt.Fprintf(stderr, "wsstorm: writing the JUnit file: %v\n", err)
			return exitCannotRun
		}
	}
	if c := sum.Counters; !run.Interrupted && c.Connects == 0 && c.ConnectAttempts > 0 {
		hint := "is it running, and reachable at its URL?"
		if n := c.ConnectFailures["script_timeout"]; n > 0 && n == c.ConnectAttempts {
			hint = "every handshake succeeded, but the session script's awaited message never came: check each step's expect against what the server sends"
		}
		fmt.Fprintf(stderr, "wsstorm: no client could connect to the target in %d attempts (%s): %s\n",
			c.ConnectAttempts, failureList(c.ConnectFailures), hint)
		return exitCannotRun
	}
	switch {
	case run.Interrupted:
		return exitInterrupted
	case !sum.Passed:
		return exitFailed
	}
	return exitPassed
}

// otherPort suggests an address next to addr (HOST:PORT): the next port, or
// port 0 (any free one) when addr asked for none or the last.
func otherPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1:0"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n >= 65535 {
		n = -1
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// failureList writes failure counts as "refused=60, timeout=3", most first.
func failureList(failures map[string]int64) string {
	reasons := slices.Collect(maps.Keys(failures))
	slices.SortFunc(reasons, func(a, b string) int {
		return cmp.Or(cmp.Compare(failures[b], failures[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s=%d", r, failures[r])
	}
	return strings.Join(parts, ", ")
}

// checkWritable creates dir if needed and checks that a file can be written
// in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".wsstorm-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// uniqueDir returns dir, or dir-2, dir-3, ... when runs started in the same
// second already use it.
func uniqueDir(dir string) string {
	candidate := dir
	for i := 2; ; i++ {
		if _, err := os.Stat(candidate); errors.Is(err, fs.ErrNotExist) {
			return candidate
		}
		candidate = fmt.Sprintf("%s-%d", dir, i)
	}
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
