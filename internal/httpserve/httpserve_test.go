package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "127.0.0.1:9900", want: "127.0.0.1:9900"},
		{in: ":9900", want: "127.0.0.1:9900"},
		{in: "9900", want: "127.0.0.1:9900"},
		{in: "0.0.0.0:9900", want: "0.0.0.0:9900"},
		{in: "[::1]:0", want: "[::1]:0"},
		{in: "localhost:9900", want: "localhost:9900"},
		{in: "", err: "want HOST:PORT"},
		{in: "127.0.0.1", err: "want HOST:PORT"},
		{in: "host:http", err: `port "http" is not a number`},
		{in: ":70000", err: `port "70000" is not a number`},
	} {
		got, err := ListenAddr(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ListenAddr(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestServe: the handler answers at the address, which is loopback, and the
// server stops with its context.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Serve(ctx, "the admin API", ":0", http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loopback() || !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || !strings.HasSuffix(srv.URL(), "/") || strings.HasSuffix(srv.Addr(), ":0") {
		t.Fatalf("addr %s url %s loopback %v", srv.Addr(), srv.URL(), srv.Loopback())
	}
	resp, err := http.Get(srv.URL() + "x")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := srv.Wait(); err != nil {
		t.Errorf("wait: %v", err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("second wait: %v", err)
	}
	if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		c.Close()
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
	_, err = Serve(context.Background(), "the admin API", ln.Addr().String(), http.NotFoundHandler())
	want := "cannot serve the admin API on " + ln.Addr().String() + ": address already in use"
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("got %v, want %q", err, want)
	}
}
