package fleet

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// TestMain lets memory measurements run the embedded target in a child
// process (this test binary), so the fleet's own cost is measured alone.
func TestMain(m *testing.M) {
	if os.Getenv("WSSTORM_TARGET_CHILD") == "1" {
		serveTargetChild()
		return
	}
	os.Exit(m.Run())
}

// serveTargetChild runs a one-node embedded target, prints its URL and serves
// until its stdin closes.
func serveTargetChild() {
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(tgt.URL())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tgt.Shutdown(ctx)
}

// startTargetChild starts the target in a child process and returns its URL.
func startTargetChild(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "WSSTORM_TARGET_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ws://") {
		tb.Fatalf("target child: %q, %v", line, err)
	}
	return strings.TrimSpace(line)
}

// resetClose closes with an RST so a long benchmark does not fill the
// ephemeral port range with TIME_WAIT sockets.
func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// BenchmarkHandshake compares the fleet's connect path against the embedded
// target with a bare gorilla client and server doing nothing else, in the
// same run. Compare handshakes/s of the two sub-benchmarks.
func BenchmarkHandshake(b *testing.B) {
	const parallelism = 8 // × GOMAXPROCS dialing goroutines
	b.Run("bare", func(b *testing.B) {
		up := websocket.Upgrader{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			go func() {
				for {
					if _, _, err := c.NextReader(); err != nil {
						c.Close()
						return
					}
				}
			}()
		}))
		defer srv.Close()
		url := "ws" + strings.TrimPrefix(srv.URL, "http")
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			d := websocket.Dialer{}
			for pb.Next() {
				c, _, err := d.Dial(url, nil)
				if err != nil {
					b.Error(err)
					return
				}
				resetClose(c.NetConn())
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	})
	b.Run("fleet", func(b *testing.B) {
		tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = tgt.Shutdown(ctx)
		}()
		cfg := baseConfig()
		cfg.URL = tgt.URL()
		cfg.MaxDialing = 256
		rec := stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute})
		f, err := New(cfg, rec)
		if err != nil {
			b.Fatal(err)
		}
		var id atomic.Int64
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := newClient(f, int(id.Add(1)))
			for pb.Next() {
				hs, _, err := c.dial(context.Background(), -1)
				if err != nil {
					b.Error(err)
					return
				}
				resetClose(hs.conn.NetConn())
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	})
}

// idleFleetMemory connects n idle clients to url and returns the Go runtime's
// heap-in-use plus stack-in-use once they are all connected, and the RSS.
func idleFleetMemory(tb testing.TB, url string, n int) (runtimeBytes, rssBytes uint64) {
	tb.Helper()
	cfg := baseConfig()
	cfg.URL = url
	cfg.Clients = n
	cfg.MaxDialing = 64
	rec := stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute})
	f, err := New(cfg, rec)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for rec.Connected() < int64(n) {
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d clients connected", rec.Connected(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // welcomes read, dial buffers released
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse, rss()
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident uint64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0
	}
	return resident * uint64(os.Getpagesize())
}

// idleSlope measures the cost of one more connected idle client: the slope of
// memory from lo to hi clients, the target being in another process.
func idleSlope(tb testing.TB, lo, hi int) (runtimePer, rssPer float64) {
	url := startTargetChild(tb)
	r1, s1 := idleFleetMemory(tb, url, lo)
	r2, s2 := idleFleetMemory(tb, url, hi)
	span := float64(hi - lo)
	return (float64(r2) - float64(r1)) / span, (float64(s2) - float64(s1)) / span
}

// BenchmarkIdleClientMemory reports the memory one connected idle client
// costs the fleet process (target in a child process).
func BenchmarkIdleClientMemory(b *testing.B) {
	for b.Loop() {
		rt, rs := idleSlope(b, 1000, 5000)
		b.ReportMetric(rt, "heap+stack-B/client")
		b.ReportMetric(rs, "rss-B/client")
	}
}
