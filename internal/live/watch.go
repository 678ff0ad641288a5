package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// WatchOptions say how one run is watched while it goes on.
type WatchOptions struct {
	// Out is where the status, the log lines and the metrics endpoint's
	// lines go (stderr), each line after Prefix.
	Out    io.Writer
	Prefix string
	// Redact removes secrets from the status and the log lines (a
	// profile's Redact); nil leaves them as they are.
	Redact func(string) string
	// Status shows the run's status on Out: redrawn in place on a
	// terminal, a line each interval otherwise.
	Status bool
	// MetricsAddr, if set, serves Prometheus metrics there (see ListenAddr).
	MetricsAddr string
	// Clients and Duration are the run's (or its segment's) size and
	// planned length.
	Clients  int
	Duration time.Duration
}

// Watch watches one run: its status on Out and its metrics endpoint.
type Watch struct {
	view    *View
	metrics *Collector
	log     io.Writer
	stop    func()
}

// StartWatch brings the metrics endpoint up, if any, before the run, so
// that a taken address stops the run before anything starts; the error
// then says which address to try instead.
func StartWatch(o WatchOptions) (*Watch, error) {
	w := &Watch{stop: func() {}}
	if o.MetricsAddr != "" {
		if err := w.serveMetrics(o); err != nil {
			return nil, err
		}
	}
	width, tty := Terminal(o.Out)
	out := o.Out
	if o.Redact != nil {
		out = lines.Redacted(out, o.Redact)
	}
	w.log = lines.Prefixed(out, o.Prefix)
	if o.Status {
		w.view = NewView(ViewOptions{
			Out: out, Terminal: tty, Width: width, Prefix: o.Prefix,
			Clients: o.Clients, Duration: o.Duration,
		})
		// Log lines clear the status and draw it again below them.
		w.log = w.view.LogWriter(w.log)
	}
	return w, nil
}

// serveMetrics serves the run's metrics at o.MetricsAddr and says where.
func (w *Watch) serveMetrics(o WatchOptions) error {
	w.metrics = NewCollector(o.Clients, o.Duration)
	ctx, stop := context.WithCancel(context.Background())
	srv, err := Serve(ctx, o.MetricsAddr, w.metrics)
	if err != nil {
		stop()
		suggest := "127.0.0.1:0" // any free loopback port
		if errors.Is(err, syscall.EADDRINUSE) {
			suggest = otherPort(o.MetricsAddr)
		}
		return fmt.Errorf("%w; choose another address with --metrics-addr, e.g. %s", err, suggest)
	}
	if !srv.Loopback() {
		fmt.Fprintf(o.Out, "%swarning: metrics on %s can be reached from other machines; use 127.0.0.1:PORT to keep them local\n", o.Prefix, srv.Addr())
	}
	fmt.Fprintf(o.Out, "%smetrics at %s\n", o.Prefix, srv.URL())
	w.stop = func() { stop(); _ = srv.Wait() }
	return nil
}

// Log is where the run's log lines go, prefixed and redacted, clearing the
// status and drawing it again below them.
func (w *Watch) Log() io.Writer { return w.log }

// Observe watches rec until ctx ends (storm.Options.Observe).
func (w *Watch) Observe(ctx context.Context, rec *stats.Recorder) {
	if w.metrics != nil {
		w.metrics.Attach(rec)
	}
	if w.view != nil {
		w.view.Run(ctx, rec)
	}
}

// Stop shuts the metrics endpoint down.
func (w *Watch) Stop() { w.stop() }

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
