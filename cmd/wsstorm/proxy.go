package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/proxy"
)

// proxyHandshakeTimeout is --handshake-timeout's default.
const proxyHandshakeTimeout = 10 * time.Second

// proxyShutdownGrace bounds how long the proxy waits for close replies when
// it stops.
const proxyShutdownGrace = 5 * time.Second

func proxyCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("proxy", "wsstorm proxy --upstream URL [--listen ADDR] [--nodes N] [--admin ADDR] [--ca-file FILE] [--insecure-skip-verify] [--handshake-timeout D]", stderr)
	upstream := fs.String("upstream", "", "forward WebSocket connections to this ws:// or wss:// `URL` (required)")
	listen := fs.String("listen", "127.0.0.1:0", "listen for clients on `ADDR` (a missing host is 127.0.0.1, port 0 picks a free port)")
	nodes := fs.Int("nodes", 3, "number of proxy nodes `N` the clients are spread over")
	adminAddr := fs.String("admin", "127.0.0.1:0", "serve the admin API on `ADDR` (a missing host is 127.0.0.1; \"off\" turns it off)")
	caFile := fs.String("ca-file", "", "trust the CA certificates in PEM `FILE` too, for a wss:// upstream")
	insecure := fs.Bool("insecure-skip-verify", false, "do not verify a wss:// upstream's certificate (for tests only)")
	handshakeTimeout := fs.Duration("handshake-timeout", proxyHandshakeTimeout, "bound the upstream's connect, TLS and WebSocket handshake to `D`; past it the client gets 504")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wsstorm proxy: takes no arguments, got %v; the upstream goes in --upstream URL\n", fs.Args())
		return exitUsage
	}
	if *upstream == "" {
		fmt.Fprintln(stderr, "wsstorm proxy: --upstream URL is required, e.g. --upstream ws://127.0.0.1:8080/socket")
		return exitUsage
	}
	if err := proxy.CheckUpstream(*upstream); err != nil {
		fmt.Fprintf(stderr, "wsstorm proxy: --upstream: %v\n", err)
		return exitUsage
	}
	if *handshakeTimeout <= 0 {
		fmt.Fprintf(stderr, "wsstorm proxy: --handshake-timeout is %v, want more than 0s, e.g. 10s\n", *handshakeTimeout)
		return exitUsage
	}
	tlsConf, err := proxyTLS(*caFile, *insecure)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm proxy: %v\n", err)
		return exitUsage
	}
	if *nodes < 1 {
		fmt.Fprintf(stderr, "wsstorm proxy: --nodes is %d, want at least 1\n", *nodes)
		return exitUsage
	}
	listenAddr, err := admin.ListenAddr(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm proxy: --listen: %v\n", err)
		return exitUsage
	}
	adminOn := *adminAddr != "off" && *adminAddr != ""
	if adminOn {
		if *adminAddr, err = admin.ListenAddr(*adminAddr); err != nil {
			fmt.Fprintf(stderr, "wsstorm proxy: --admin: %v\n", err)
			return exitUsage
		}
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// After the first signal the proxy closes its clients; a second one
	// ends the process at once.
	context.AfterFunc(ctx, cancel)

	if *insecure {
		fmt.Fprintln(stderr, "wsstorm proxy: warning: --insecure-skip-verify: the upstream's certificate is not verified, so anyone between the proxy and the upstream can read and change the traffic")
	}
	p, err := proxy.Start(ctx, proxy.Options{
		Listen:           listenAddr,
		Nodes:            *nodes,
		Upstream:         *upstream,
		TLS:              tlsConf,
		HandshakeTimeout: *handshakeTimeout,
	})
	if err != nil {
		fmt.Fprintf(stderr, "wsstorm proxy: %v\n", err)
		return exitCannotRun
	}
	shutdown := func() {
		sctx, scancel := context.WithTimeout(context.Background(), proxyShutdownGrace)
		defer scancel()
		_ = p.Shutdown(sctx) // past the grace, connections are dropped
	}
	if !loopback(listenAddr) {
		fmt.Fprintf(stderr, "wsstorm proxy: warning: clients on other machines can reach the proxy on %s; use 127.0.0.1:PORT to keep it local\n", listenAddr)
	}
	fmt.Fprintf(stderr, "wsstorm proxy: %d nodes at %s -> %s\n", p.Nodes(), p.URL(), profile.RedactURL(*upstream))

	stopAdmin := func() {}
	if adminOn {
		life, cancelLife := context.WithCancel(context.Background())
		h := admin.NewHandler(p, admin.WithURL(p.URL()), admin.WithLifetime(life))
		srv, err := admin.Serve(life, *adminAddr, h)
		if err != nil {
			cancelLife()
			shutdown()
			fmt.Fprintf(stderr, "wsstorm proxy: %v; choose another address with --admin, e.g. 127.0.0.1:0\n", err)
			return exitCannotRun
		}
		if !srv.Loopback() {
			fmt.Fprintf(stderr, "wsstorm proxy: warning: the admin API on %s can be reached from other machines; use 127.0.0.1:PORT to keep it local\n", srv.Addr())
		}
		fmt.Fprintf(stderr, "wsstorm proxy: admin at %s\n", srv.URL())
		stopAdmin = func() {
			// Restarts under way end (their nodes rejoin) and the API stops.
			cancelLife()
			_ = srv.Wait()
			h.Wait()
		}
	}

	<-ctx.Done()
	// No chaos from the API while the proxy closes its clients.
	stopAdmin()
	shutdown()
	return exitPassed
}

// proxyTLS is the TLS configuration of a wss:// upstream's dials: nil (the
// system's roots, verified) unless caFile adds roots or insecure turns
// verification off.
func proxyTLS(caFile string, insecure bool) (*tls.Config, error) {
	if caFile == "" && !insecure {
		return nil, nil
	}
	conf := &tls.Config{InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
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
