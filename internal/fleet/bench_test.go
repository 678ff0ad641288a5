package fleet

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// TestMain lets memory measurements run the target and the clients in
// child processes (this test binary): see runChild.
func TestMain(m *testing.M) {
	runChild()
	os.Exit(m.Run())
}

// resetClose closes with an RST so a long benchmark does not fill the
// ephemeral port range with TIME_WAIT sockets.
func resetClose(c net.Conn) {
	if rc, ok := c.(*requestConn); ok {
		c = rc.NetConn()
	}
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
				a := c.connect(context.Background(), intent{at: time.Now(), event: -1}) // as a client's goroutine does
				if a.err != nil {
					b.Error(a.err)
					return
				}
				resetClose(a.hs.conn.NetConn())
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	})
}

// BenchmarkIdleClientMemory reports the memory one connected idle client
// costs the fleet process, from 1,000 to 5,000 clients (target in a child
// process); BenchmarkIdleRSS goes to 19,000 and compares bare gorilla.
//
// rules=socket.io gives the clients reply rules (a Socket.IO client's), to
// show what rules cost a client the server leaves idle: nothing, as the
// rules read from a buffer lent for each message.
func BenchmarkIdleClientMemory(b *testing.B) {
	for _, replies := range []bool{false, true} {
		name := "rules=none"
		if replies {
			name = "rules=socket.io"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				cps := measureIdleHerds(b, "fleet", []int{1000, 5000}, idleOptions{replies: replies}).checkpoints
				b.ReportMetric(idleSlope(cps, cpStack)+idleSlope(cps, cpHeap), "heap+stack-B/client")
				b.ReportMetric(idleSlope(cps, cpRSS), "rss-B/client")
			}
		})
	}
}

// BenchmarkTemplateAppend measures rendering a client's templates: a message
// is rendered for every send and a URL for every dial, so this is the
// clients' hot path when a profile uses templates.
func BenchmarkTemplateAppend(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"message", `{"op":"ping","client":{{client}},"session":{{session}},"id":{{seq}}}`},
		{"url", "wss://ws.example.test/socket?client={{client}}&key={{key}}&device={{ uuid }}&try={{seq}}"},
		{"static", `{"op":"ping","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tm := mustTemplate(b, bc.text)
			vals := tmplValues{seed: 1, client: 1234, session: 3}
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				vals.seq++
				buf = tm.append(buf[:0], vals)
			}
		})
	}
}
