package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/lines"
	"github.com/wsstorm/wsstorm/internal/proxy"
	"github.com/wsstorm/wsstorm/internal/standalone"
)

// proxyHandshakeTimeout is --handshake-timeout's default.
const proxyHandshakeTimeout = 10 * time.Second

// proxyCmd runs the chaos proxy until SIGINT or SIGTERM, which, as for
// serve, is its normal end (exit 0).
func proxyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("proxy", "wsstorm proxy --upstream URL [--listen ADDR] [--nodes N] [--admin ADDR] [--ca-file FILE] [--insecure-skip-verify] [--handshake-timeout D]", stderr)
	upstream := fs.String("upstream", "", "forward WebSocket connections to this ws:// or wss:// `URL` (required)")
	listen := fs.String("listen", "127.0.0.1:0", "listen for clients on `ADDR` (a missing host is 127.0.0.1, port 0 picks a free port)")
	nodes := fs.Int("nodes", 3, "number of proxy nodes `N` the clients are spread over")
	adminAddr := fs.String("admin", "127.0.0.1:0", "serve the admin API on `ADDR` (a missing host is 127.0.0.1; \"off\" turns it off)")
	caFile := fs.String("ca-file", "", "trust the CA certificates in PEM `FILE` too, for a wss:// upstream")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify a wss:// upstream's certificate (for tests only)")
	handshakeTimeout := fs.Duration("handshake-timeout", proxyHandshakeTimeout, "bound the upstream's connect, TLS and WebSocket handshake to `D`; past it the client gets 504")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("wsstorm proxy: takes no arguments, got %v; the upstream goes in --upstream URL", fs.Args())
	case *upstream == "":
		return usagef("wsstorm proxy: --upstream URL is required, e.g. --upstream ws://127.0.0.1:8080/socket")
	}
	if err := proxy.CheckUpstream(*upstream); err != nil {
		return usagef("wsstorm proxy: --upstream: %v", err)
	}
	if *handshakeTimeout <= 0 {
		return usagef("wsstorm proxy: --handshake-timeout is %v, want more than 0s, e.g. 10s", *handshakeTimeout)
	}
	tlsConf, err := standalone.ProxyTLS(*caFile, *insecure)
	if err != nil {
		return usagef("wsstorm proxy: %v", err)
	}
	if *nodes < 1 {
		return usagef("wsstorm proxy: --nodes is %d, want at least 1", *nodes)
	}
	opts := standalone.ProxyOptions{
		Proxy: proxy.Options{Nodes: *nodes, Upstream: *upstream, TLS: tlsConf, HandshakeTimeout: *handshakeTimeout},
		Out:   lines.Prefixed(stderr, "wsstorm proxy: "),
	}
	if opts.Proxy.Listen, err = admin.ListenAddr(*listen); err != nil {
		return usagef("wsstorm proxy: --listen: %v", err)
	}
	if *adminAddr != "off" && *adminAddr != "" {
		if opts.Admin, err = admin.ListenAddr(*adminAddr); err != nil {
			return usagef("wsstorm proxy: --admin: %v", err)
		}
	}

	ctx, stop := untilSignal(ctx)
	defer stop()
	if *insecure {
		fmt.Fprintln(stderr, "wsstorm proxy: warning: --insecure-skip-verify: the upstream's certificate is not verified, so anyone between the proxy and the upstream can read and change the traffic")
	}
	if err := standalone.Proxy(ctx, opts); err != nil {
		return cannotRunf("wsstorm proxy: %v", err)
	}
	return nil
}
