package live

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServe: /metrics answers with the collector's metrics and the
// process's, other paths do not exist, and the server stops with its
// context.
func TestServe(t *testing.T) {
	c := NewCollector(4, time.Minute)
	c.Attach(recorded(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Serve(ctx, "127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loopback() || !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || strings.HasSuffix(srv.Addr(), ":0") {
		t.Fatalf("addr %s url %s loopback %v", srv.Addr(), srv.URL(), srv.Loopback())
	}
	resp, err := http.Get(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"wsstorm_clients_connected 3\n",
		`wsstorm_chaos_events_total{action="rolling_restart",node="1"} 1` + "\n",
		`wsstorm_reconnect_latency_seconds_bucket{le="0.002"} 1` + "\n",
		"wsstorm_reconnect_latency_seconds_count 2\n",
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if resp, err := http.Get("http://" + srv.Addr() + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %v %v", resp.Status, err)
	}

	cancel()
	if err := srv.Wait(); err != nil {
		t.Errorf("wait: %v", err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("second wait: %v", err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		t.Error("still listening after the context ended")
	}
}

// TestServeAddressInUse: a taken address fails at once with a message that
// names it.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Serve(context.Background(), ln.Addr().String(), NewCollector(1, time.Second))
	want := "cannot serve metrics on " + ln.Addr().String() + ": address already in use"
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestServeNotLoopback: an address other machines can reach is allowed, and
// said so.
func TestServeNotLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Serve(ctx, "0.0.0.0:0", NewCollector(1, time.Second))
	if err != nil {
		t.Skipf("cannot listen on all addresses here: %v", err)
	}
	if srv.Loopback() || !strings.HasPrefix(srv.Addr(), "0.0.0.0:") {
		t.Errorf("%s reported as loopback %v", srv.Addr(), srv.Loopback())
	}
	cancel()
	if err := srv.Wait(); err != nil {
		t.Error(err)
	}
}
