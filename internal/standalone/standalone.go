// Package standalone runs wsstorm's own servers as processes of their own,
// until their context ends: the embedded target with its admin API (wsstorm
// serve) and the chaos proxy with its admin API (wsstorm proxy). Each says
// on Out, a line per write for people, where it listens; a serve process
// also says it is ready, for programs, in a ready file (Ready).
package standalone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/target"
)

// shutdownGrace bounds how long a server waits for its clients' close
// replies when it stops; past it, connections are dropped.
const shutdownGrace = 5 * time.Second

// ServeOptions are a standalone embedded target's.
type ServeOptions struct {
	Target target.Options
	// Admin is the admin API's address (see admin.ListenAddr).
	Admin string
	// LogPath, if set, is the file the server's event log goes to, as JSON
	// lines ("-": Stdout); LogQuery are the query keys whose values it
	// keeps (admin.LogQueryKeys).
	LogPath  string
	LogQuery []string
	Stdout   io.Writer
	// ReadyFile, if set, is the file Serve writes Ready to once both the
	// nodes and the admin API listen, and removes when it stops.
	ReadyFile string
	// Out receives the lines for people (where it serves, warnings).
	Out io.Writer
	// Observe, if set, watches the nodes while the server serves, through
	// status, until ctx ends (the live view of wsstorm serve on a
	// terminal). Serve waits for it to return before it says it stops.
	Observe func(ctx context.Context, status func() []nodes.Status)
}

// Serve runs the embedded target until ctx ends, then closes its clients
// with 1001 (going away). A signal is how such a server is meant to stop,
// so the end of ctx is no error. An error that the event log could not be
// written comes after (errors.Join) any other.
func Serve(ctx context.Context, o ServeOptions) error {
	var elog *admin.EventLog
	switch o.LogPath {
	case "":
	case "-":
		elog = admin.NewEventLog(o.Stdout, admin.LogQueryKeys(o.LogQuery...))
	default:
		f, err := os.Create(o.LogPath)
		if err != nil {
			return fmt.Errorf("cannot write the log: %w; choose another file with --log", err)
		}
		defer f.Close()
		elog = admin.NewEventLog(f, admin.LogQueryKeys(o.LogQuery...))
	}
	err := serve(ctx, o, elog)
	if cerr := elog.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("writing the log to %s: %w; it is incomplete", o.LogPath, cerr))
	}
	return err
}

// serve is Serve with its event log, if any.
func serve(ctx context.Context, o ServeOptions, elog *admin.EventLog) error {
	if elog != nil {
		o.Target.Log = elog // only when set: a nil *EventLog in the interface is not a nil interface
	}
	if o.ReadyFile != "" {
		// A file left by a server that was killed must not pass for this one's.
		if err := os.Remove(o.ReadyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return readyFileError(err)
		}
	}
	tgt, err := target.Start(ctx, o.Target)
	if err != nil {
		return listenError(err, o.Target)
	}
	if o.Target.FirstNode > 0 || o.Target.SharePort {
		elog.ServingFrom(tgt.URL(), tgt.FirstNode(), tgt.Nodes())
	} else {
		elog.Serving(tgt.URL(), tgt.Nodes())
	}
	shutdown := func() {
		sctx, scancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer scancel()
		_ = tgt.Shutdown(sctx)
	}

	// Restarts run under the API's lifetime, which ends before the nodes
	// shut down, so no restart is under way while they close their clients.
	life, endLife := context.WithCancel(context.Background())
	defer endLife()
	h := admin.NewHandler(tgt, admin.WithURL(tgt.URL()), admin.WithEventLog(elog), admin.WithLifetime(life))
	srv, err := admin.Serve(life, o.Admin, h)
	if err != nil {
		shutdown()
		return fmt.Errorf("%v; choose another address with --admin, e.g. 127.0.0.1:0", err)
	}
	stop := func() {
		endLife()
		_ = srv.Wait()
		h.Wait()
		shutdown()
	}
	// Both are up: one line each for people, and the ready file for programs.
	if !loopback(tgt.Addr()) {
		fmt.Fprintf(o.Out, "warning: clients on other machines can reach the nodes on %s; use 127.0.0.1:PORT to keep them local\n", tgt.Addr())
	}
	if !srv.Loopback() {
		fmt.Fprintf(o.Out, "warning: the admin API on %s can be reached from other machines; use 127.0.0.1:PORT to keep it local\n", srv.Addr())
	}
	fmt.Fprintf(o.Out, "%d nodes at %s\n", tgt.Nodes(), tgt.URL())
	fmt.Fprintf(o.Out, "admin at %s\n", srv.URL())
	if o.ReadyFile != "" {
		ready := Ready{URL: tgt.URL(), AdminURL: srv.URL(), Nodes: tgt.Nodes(), FirstNode: tgt.FirstNode()}
		if err := ready.Write(o.ReadyFile); err != nil {
			stop()
			return readyFileError(err)
		}
	}

	watched := make(chan struct{})
	if o.Observe != nil {
		go func() { defer close(watched); o.Observe(ctx, tgt.NodeStatus) }()
	} else {
		close(watched)
	}

	<-ctx.Done()
	<-watched // so that what follows prints on a clean line
	if o.ReadyFile != "" {
		_ = os.Remove(o.ReadyFile) // it is no longer ready
	}
	open := 0
	for _, n := range tgt.NodeStatus() {
		open += int(n.Conns)
	}
	fmt.Fprintf(o.Out, "stopping: closing %d connections with 1001 (going away)\n", open)
	elog.ShuttingDown()
	stop()
	return nil
}

// listenError says why the nodes could not listen on o.Listen, and what to
// change.
func listenError(err error, o target.Options) error {
	var se *os.SyscallError
	switch {
	case errors.As(err, &se) && o.SharePort:
		return fmt.Errorf("cannot share %s with other wsstorm serve processes: %w; whatever listens there does not use SO_REUSEPORT or runs as another user: stop it, or choose another address with --listen", o.Listen, se.Err)
	case errors.As(err, &se):
		// "bind: address already in use" says it better than the chain.
		return fmt.Errorf("cannot listen for clients on %s: %w; choose another address with --listen, e.g. 127.0.0.1:0", o.Listen, se.Err)
	}
	return err
}

// readyFileError says the ready file could not be written, and what to do.
func readyFileError(err error) error {
	return fmt.Errorf("cannot write the ready file: %w; choose another file with --ready-file", err)
}

// loopback reports whether a HOST:PORT address is reachable only from this
// machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
