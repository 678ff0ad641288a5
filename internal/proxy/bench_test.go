package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkRoundTrip measures the latency the proxy adds: one client sends
// a 32-byte binary message and waits for its echo, directly to an echo
// server and through the proxy to the same server, in the same run.
// Compare µs/rtt of the two sub-benchmarks:
//
//	go test -run '^$' -bench RoundTrip -count 10 ./internal/proxy/ | benchstat -col /sub -
func BenchmarkRoundTrip(b *testing.B) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	direct := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"

	p, err := Start(context.Background(), Options{Upstream: direct, Nodes: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}()

	for _, c := range []struct{ name, url string }{{"sub=direct", direct}, {"sub=proxied", p.URL()}} {
		b.Run(c.name, func(b *testing.B) {
			ws, _, err := websocket.DefaultDialer.Dial(c.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			msg := make([]byte, 32)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := ws.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ws.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/rtt")
		})
	}
}
