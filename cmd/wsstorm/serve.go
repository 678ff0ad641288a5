package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/target"
)

// serveShutdownGrace bounds how long the server waits for its clients'
// close replies when it stops.
const serveShutdownGrace = 5 * time.Second

const serveSynopsis = "wsstorm serve [PROFILE] [--set key=value]... [--nodes N] [--first-node G] [--listen ADDR] [--share-port] [--admin ADDR] [--log FILE] [--log-query KEYS] [--accept-rate R] [--max-conns N] [--handshake-delay D]"

// serveCmd runs the embedded target as a standalone server until SIGINT or
// SIGTERM. A signal is how a server is meant to stop, so it exits 0 then,
// not 130.
func serveCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", serveSynopsis, stderr)
	var sets stringList
	fs.Var(&sets, "set", "override a profile key, e.g. --set target.nodes=5 (repeatable)")
	nodes := fs.Int("nodes", 0, "number of nodes `N` sharing the address (default: the profile's target.nodes, 3)")
	firstNode := fs.Int("first-node", 0, "number the nodes from `G`, as one part of a target that several serve processes share (welcome, /status, the admin API's paths and the log)")
	listen := fs.String("listen", "", "listen for clients on `ADDR` (default: the profile's target.listen, 127.0.0.1:0; a missing host is 127.0.0.1)")
	sharePort := fs.Bool("share-port", false, "share the --listen address with other wsstorm serve processes of this user (SO_REUSEPORT, Linux) rather than refuse it when taken")
	adminAddr := fs.String("admin", "127.0.0.1:0", "serve the admin API on `ADDR` (a missing host is 127.0.0.1)")
	logPath := fs.String("log", "", "write the server's events as JSON lines to `FILE` (- for standard output; default: no log)")
	logQuery := fs.String("log-query", "client,session", "comma-separated query `KEYS` whose values the log keeps; the others' are logged as [redacted]")
	acceptRate := fs.Float64("accept-rate", 0, "handshakes per second per node `R`; excess gets 503 (default: the profile's, 2000; 0 is unlimited)")
	maxConns := fs.Int("max-conns", 0, "open connections per node `N`; excess gets 503 (default: the profile's, 0 = unlimited)")
	delay := fs.Duration("handshake-delay", 0, "simulated auth work `D` before each upgrade (default: the profile's, 0s)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "wsstorm serve: one profile at a time, got %d: %v\n", len(pos), pos)
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
	if p.Target.Mode != profile.ModeEmbedded {
		fmt.Fprintf(stderr, "wsstorm serve: %s: target.mode is %q, but serve runs the embedded target: use a profile with mode = \"embedded\" (or none), or `wsstorm run` for an external target\n", p.Path, p.Target.Mode)
		return exitUsage
	}
	opts := target.Options{Nodes: p.Target.Nodes, Listen: p.Target.Listen, Capacity: p.Target.Capacity, FirstNode: *firstNode, SharePort: *sharePort}
	if err := applyServeFlags(fs, &opts, *nodes, *listen, *acceptRate, *maxConns, *delay); err != nil {
		fmt.Fprintf(stderr, "wsstorm serve: %v\n", err)
		return exitUsage
	}
	if opts.FirstNode < 0 || opts.FirstNode+opts.Nodes > profile.MaxNodes {
		fmt.Fprintf(stderr, "wsstorm serve: --first-node %d with %d nodes is out of range: node numbers go from 0 to %d\n", opts.FirstNode, opts.Nodes, profile.MaxNodes-1)
		return exitUsage
	}
	if *adminAddr, err = admin.ListenAddr(*adminAddr); err != nil {
		fmt.Fprintf(stderr, "wsstorm serve: --admin: %v\n", err)
		return exitUsage
	}

	var logFile io.Writer
	switch *logPath {
	case "":
	case "-":
		logFile = stdout
	default:
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm serve: cannot write the log: %v; choose another file with --log\n", err)
			return exitCannotRun
		}
		defer f.Close()
		logFile = f
	}
	var elog *admin.EventLog
	if logFile != nil {
		elog = admin.NewEventLog(logFile, admin.LogQueryKeys(splitKeys(*logQuery)...))
		opts.Log = elog // only when set: a nil *EventLog in the interface is not a nil interface
	}
	closeLog := func() int {
		if err := elog.Close(); err != nil {
			fmt.Fprintf(stderr, "wsstorm serve: writing the log to %s: %v; it is incomplete\n", *logPath, err)
			return exitCannotRun
		}
		return exitPassed
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// After the first signal the server closes its clients; a second one
	// ends the process at once.
	context.AfterFunc(ctx, cancel)

	tgt, err := target.Start(ctx, opts)
	if err != nil {
		var se *os.SyscallError
		switch {
		case errors.As(err, &se) && opts.SharePort:
			err = fmt.Errorf("cannot share %s with other wsstorm serve processes: %w; whatever listens there does not use SO_REUSEPORT or runs as another user: stop it, or choose another address with --listen", opts.Listen, se.Err)
		case errors.As(err, &se):
			// "bind: address already in use" says it better than the chain.
			err = fmt.Errorf("cannot listen for clients on %s: %w; choose another address with --listen, e.g. 127.0.0.1:0", opts.Listen, se.Err)
		}
		fmt.Fprintf(stderr, "wsstorm serve: %v\n", err)
		closeLog()
		return exitCannotRun
	}
	if opts.FirstNode > 0 || opts.SharePort {
		elog.ServingFrom(tgt.URL(), tgt.FirstNode(), tgt.Nodes())
	} else {
		elog.Serving(tgt.URL(), tgt.Nodes())
	}
	shutdown := func() {
		sctx, scancel := context.WithTimeout(context.Background(), serveShutdownGrace)
		defer scancel()
		_ = tgt.Shutdown(sctx) // past the grace, connections are dropped
	}

	// Restarts run under the API's lifetime, which ends before the nodes
	// shut down, so no restart is under way while they close their clients.
	life, endLife := context.WithCancel(context.Background())
	defer endLife()
	h := admin.NewHandler(tgt, admin.WithURL(tgt.URL()), admin.WithEventLog(elog), admin.WithLifetime(life))
	srv, err := admin.Serve(life, *adminAddr, h)
	if err != nil {
		shutdown()
		closeLog()
		fmt.Fprintf(stderr, "wsstorm serve: %v; choose another address with --admin, e.g. 127.0.0.1:0\n", err)
		return exitCannotRun
	}
	// Both are up: one line each, which scripts wait for.
	if host, _, _ := net.SplitHostPort(tgt.Addr()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(stderr, "wsstorm serve: warning: clients on other machines can reach the nodes on %s; use 127.0.0.1:PORT to keep them local\n", tgt.Addr())
	}
	if !srv.Loopback() {
		fmt.Fprintf(stderr, "wsstorm serve: warning: the admin API on %s can be reached from other machines; use 127.0.0.1:PORT to keep it local\n", srv.Addr())
	}
	fmt.Fprintf(stderr, "wsstorm serve: %d nodes at %s\n", tgt.Nodes(), tgt.URL())
	fmt.Fprintf(stderr, "wsstorm serve: admin at %s\n", srv.URL())

	<-ctx.Done()
	open := 0
	for _, n := range tgt.NodeStatus() {
		open += int(n.Conns)
	}
	fmt.Fprintf(stderr, "wsstorm serve: stopping: closing %d connections with 1001 (going away)\n", open)
	elog.ShuttingDown()
	endLife()
	_ = srv.Wait()
	h.Wait()
	shutdown()
	return closeLog()
}

// splitKeys splits a comma-separated list, dropping spaces around each
// item and empty items.
func splitKeys(list string) []string {
	var keys []string
	for k := range strings.SplitSeq(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// applyServeFlags lays the flags that were given over the profile's target.
func applyServeFlags(fs *flag.FlagSet, o *target.Options, nodes int, listen string, acceptRate float64, maxConns int, delay time.Duration) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		switch f.Name {
		case "nodes":
			if nodes < 1 || nodes > profile.MaxNodes {
				err = fmt.Errorf("--nodes %d is out of range: use 1 to %d", nodes, profile.MaxNodes)
			}
			o.Nodes = nodes
		case "listen":
			if o.Listen, err = admin.ListenAddr(listen); err != nil {
				err = fmt.Errorf("--listen: %w", err)
			}
		case "accept-rate":
			if !(acceptRate >= 0) || math.IsInf(acceptRate, 1) {
				err = fmt.Errorf("--accept-rate %v is not a rate: use handshakes per second per node, or 0 for unlimited", acceptRate)
			}
			o.Capacity.AcceptRate = acceptRate
		case "max-conns":
			if maxConns < 0 {
				err = fmt.Errorf("--max-conns %d is negative: use 0 (unlimited) or more", maxConns)
			}
			o.Capacity.MaxConns = maxConns
		case "handshake-delay":
			if delay < 0 {
				err = fmt.Errorf("--handshake-delay %v is negative: use 0s or more", delay)
			}
			o.Capacity.HandshakeDelay = profile.Dur(delay)
		}
	})
	return err
}
