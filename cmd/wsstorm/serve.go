package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/live"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/standalone"
	"github.com/wsstorm/wsstorm/internal/target"
)

const serveSynopsis = "wsstorm serve [PROFILE] [--set key=value]... [--nodes N] [--first-node G] [--listen ADDR] [--share-port] [--admin ADDR] [--log FILE] [--log-query KEYS] [--ready-file FILE] [--accept-rate R] [--max-conns N] [--handshake-delay D] [--quiet]"

// serveFlags are serve's flags that lay over the profile's [target].
type serveFlags struct {
	nodes, maxConns int
	listen          string
	acceptRate      float64
	delay           time.Duration
}

// serveCmd runs the embedded target as a standalone server until SIGINT or
// SIGTERM. A signal is how a server is meant to stop, so it exits 0 then,
// not 130.
func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", serveSynopsis, stderr)
	var sets stringList
	var sf serveFlags
	fs.Var(&sets, "set", "override a profile key, e.g. --set target.nodes=5 (repeatable)")
	fs.IntVar(&sf.nodes, "nodes", 0, "number of nodes `N` sharing the address (default: the profile's target.nodes, 3)")
	firstNode := fs.Int("first-node", 0, "number the nodes from `G`, as one part of a target that several serve processes share (welcome, /status, the admin API's paths and the log)")
	fs.StringVar(&sf.listen, "listen", "", "listen for clients on `ADDR` (default: the profile's target.listen, 127.0.0.1:0; a missing host is 127.0.0.1)")
	sharePort := fs.Bool("share-port", false, "share the --listen address with other wsstorm serve processes of this user (SO_REUSEPORT, Linux) rather than refuse it when taken")
	adminAddr := fs.String("admin", "127.0.0.1:0", "serve the admin API on `ADDR` (a missing host is 127.0.0.1)")
	logPath := fs.String("log", "", "write the server's events as JSON lines to `FILE` (- for standard output; default: no log)")
	logQuery := fs.String("log-query", "client,session", "comma-separated query `KEYS` whose values the log keeps; the others' are logged as [redacted]")
	readyFile := fs.String("ready-file", "", "once serving, write a JSON object with the nodes' URL, the admin URL and the nodes to `FILE` (replaced whole, removed when the server stops), for programs to wait for")
	fs.Float64Var(&sf.acceptRate, "accept-rate", 0, "handshakes per second per node `R`; excess gets 503 (default: the profile's, 2000; 0 is unlimited)")
	fs.IntVar(&sf.maxConns, "max-conns", 0, "open connections per node `N`; excess gets 503 (default: the profile's, 0 = unlimited)")
	fs.DurationVar(&sf.delay, "handshake-delay", 0, "simulated auth work `D` before each upgrade (default: the profile's, 0s)")
	quiet := fs.Bool("quiet", false, "show no live status of the nodes on stderr (shown only when stderr is a terminal)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	path, err := onePath("serve", pos)
	if err != nil {
		return err
	}
	p, err := loadProfile(path, sets)
	if err != nil {
		return err
	}
	if p.Target.Mode != profile.ModeEmbedded {
		return usagef("wsstorm serve: %s: target.mode is %q, but serve runs the embedded target: use a profile with mode = \"embedded\" (or none), or `wsstorm run` for an external target", p.Path, p.Target.Mode)
	}
	opts := standalone.ServeOptions{
		Target:  target.Options{Nodes: p.Target.Nodes, Listen: p.Target.Listen, Capacity: p.Target.Capacity, FirstNode: *firstNode, SharePort: *sharePort},
		LogPath: *logPath, LogQuery: splitList(*logQuery), Stdout: stdout,
		ReadyFile: *readyFile,
		Out:       lines.Prefixed(stderr, "wsstorm serve: "),
	}
	if width, tty := live.Terminal(stderr); tty && !*quiet {
		// The nodes redrawn in place; the lines for people go above them.
		view := live.NewView(live.ViewOptions{Out: stderr, Terminal: true, Width: width, Prefix: "wsstorm serve: "})
		opts.Out = view.LogWriter(opts.Out)
		opts.Observe = view.RunNodes
	}
	if err := sf.apply(fs, &opts.Target); err != nil {
		return usagef("wsstorm serve: %v", err)
	}
	if t := opts.Target; t.FirstNode < 0 || t.FirstNode+t.Nodes > profile.MaxNodes {
		return usagef("wsstorm serve: --first-node %d with %d nodes is out of range: node numbers go from 0 to %d", t.FirstNode, t.Nodes, profile.MaxNodes-1)
	}
	if opts.Admin, err = admin.ListenAddr(*adminAddr); err != nil {
		return usagef("wsstorm serve: --admin: %v", err)
	}

	ctx, stop := untilSignal(ctx)
	defer stop()
	if err := standalone.Serve(ctx, opts); err != nil {
		// One line per error: a log that could not be written comes after.
		return cannotRunf("wsstorm serve: %s", strings.ReplaceAll(err.Error(), "\n", "\nwsstorm serve: "))
	}
	return nil
}

// splitList splits a comma-separated list, dropping spaces around each
// item and empty items.
func splitList(list string) []string {
	var items []string
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	return items
}

// apply lays the flags that were given over the profile's target.
func (sf *serveFlags) apply(fs *flag.FlagSet, o *target.Options) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		switch f.Name {
		case "nodes":
			if sf.nodes < 1 || sf.nodes > profile.MaxNodes {
				err = fmt.Errorf("--nodes %d is out of range: use 1 to %d", sf.nodes, profile.MaxNodes)
			}
			o.Nodes = sf.nodes
		case "listen":
			if o.Listen, err = admin.ListenAddr(sf.listen); err != nil {
				err = fmt.Errorf("--listen: %w", err)
			}
		case "accept-rate":
			if !(sf.acceptRate >= 0) || math.IsInf(sf.acceptRate, 1) {
				err = fmt.Errorf("--accept-rate %v is not a rate: use handshakes per second per node, or 0 for unlimited", sf.acceptRate)
			}
			o.Capacity.AcceptRate = sf.acceptRate
		case "max-conns":
			if sf.maxConns < 0 {
				err = fmt.Errorf("--max-conns %d is negative: use 0 (unlimited) or more", sf.maxConns)
			}
			o.Capacity.MaxConns = sf.maxConns
		case "handshake-delay":
			if sf.delay < 0 {
				err = fmt.Errorf("--handshake-delay %v is negative: use 0s or more", sf.delay)
			}
			o.Capacity.HandshakeDelay = profile.Dur(sf.delay)
		}
	})
	return err
}
