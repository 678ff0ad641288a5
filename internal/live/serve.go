package live

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsstorm/wsstorm/internal/httpserve"
)

// ListenAddr checks a metrics address; a missing host is 127.0.0.1, so
// ":9090" and "9090" both mean 127.0.0.1:9090 (see httpserve.ListenAddr).
func ListenAddr(addr string) (string, error) { return httpserve.ListenAddr(addr) }

// MetricsServer serves a Collector's metrics at /metrics.
type MetricsServer struct{ *httpserve.Server }

// Serve listens on addr (see ListenAddr) and serves c's metrics at /metrics,
// with the Go runtime's and the process's, from a registry of its own. It
// returns once listening, or with an error when addr cannot be bound (in
// use, not an address of this machine); it serves until ctx ends, then
// shuts down: Wait waits for that.
func Serve(ctx context.Context, addr string, c *Collector) (*MetricsServer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv, err := httpserve.Serve(ctx, "metrics", addr, mux)
	if err != nil {
		return nil, err
	}
	return &MetricsServer{srv}, nil
}

// URL returns the metrics endpoint's URL.
func (s *MetricsServer) URL() string { return "http://" + s.Addr() + "/metrics" }
