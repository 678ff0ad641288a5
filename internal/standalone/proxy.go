package standalone

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/proxy"
)

// ProxyOptions are a standalone chaos proxy's.
type ProxyOptions struct {
	Proxy proxy.Options
	// Admin is the admin API's address (see admin.ListenAddr); "" runs
	// the proxy without one.
	Admin string
	// Out receives the lines for people (where it serves, warnings).
	Out io.Writer
}

// Proxy runs the chaos proxy until ctx ends, then closes its clients. A
// signal is how it is meant to stop, so the end of ctx is no error.
func Proxy(ctx context.Context, o ProxyOptions) error {
	p, err := proxy.Start(ctx, o.Proxy)
	if err != nil {
		return err
	}
	shutdown := func() {
		sctx, scancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer scancel()
		_ = p.Shutdown(sctx) // past the grace, connections are dropped
	}
	if !loopback(o.Proxy.Listen) {
		fmt.Fprintf(o.Out, "warning: clients on other machines can reach the proxy on %s; use 127.0.0.1:PORT to keep it local\n", o.Proxy.Listen)
	}
	fmt.Fprintf(o.Out, "%d nodes at %s -> %s\n", p.Nodes(), p.URL(), profile.RedactURL(o.Proxy.Upstream))

	stopAdmin := func() {}
	if o.Admin != "" {
		life, cancelLife := context.WithCancel(context.Background())
		h := admin.NewHandler(p, admin.WithURL(p.URL()), admin.WithLifetime(life))
		srv, err := admin.Serve(life, o.Admin, h)
		if err != nil {
			cancelLife()
			shutdown()
			return fmt.Errorf("%v; choose another address with --admin, e.g. 127.0.0.1:0", err)
		}
		if !srv.Loopback() {
			fmt.Fprintf(o.Out, "warning: the admin API on %s can be reached from other machines; use 127.0.0.1:PORT to keep it local\n", srv.Addr())
		}
		fmt.Fprintf(o.Out, "admin at %s\n", srv.URL())
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
	return nil
}

// ProxyTLS is the TLS configuration of a wss:// upstream's dials: nil (the
// system's roots, verified) unless caFile adds roots or insecure turns
// verification off.
func ProxyTLS(caFile string, insecure bool) (*tls.Config, error) {
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
