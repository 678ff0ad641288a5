package fleet

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// seenServer is a WebSocket server that notes each handshake's source
// address and ?client= and holds the connection.
type seenServer struct {
	mu      sync.Mutex
	sources map[string]int
	clients map[int]int
}

func startSeenServer(t *testing.T) (*seenServer, string) {
	t.Helper()
	s := &seenServer{sources: map[string]int{}, clients: map[int]int{}}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		id, _ := strconv.Atoi(r.URL.Query().Get("client"))
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		s.mu.Lock()
		s.sources[host]++
		s.clients[id]++
		s.mu.Unlock()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return s, "ws" + strings.TrimPrefix(srv.URL, "http") + "/?client={{client}}"
}

// TestSourceAddrs: client i connects from source_addrs[i % n].
func TestSourceAddrs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("127.0.0.2 and up are local addresses on Linux only")
	}
	s, url := startSeenServer(t)
	cfg := baseConfig()
	cfg.URL = url
	cfg.Clients = 30
	cfg.SourceAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4")}
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "30 clients connected", 10*time.Second, connectedTo(h, 30))
	h.finish()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		if s.sources[a] != 10 {
			t.Errorf("%d connections from %s, want 10 (all: %v)", s.sources[a], a, s.sources)
		}
	}
}

// TestSegmentRunsItsShare: segment 1 of 3 runs exactly the clients whose
// index ≡ 1 mod 3, under their global indexes.
func TestSegmentRunsItsShare(t *testing.T) {
	s, url := startSeenServer(t)
	cfg := baseConfig()
	cfg.URL = url
	cfg.Clients = 20
	cfg.Segment, cfg.Segments = 1, 3
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "7 clients connected", 10*time.Second, connectedTo(h, 7))
	time.Sleep(100 * time.Millisecond) // no more may come
	h.finish()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) != 7 {
		t.Errorf("%d clients connected, want 7: %v", len(s.clients), s.clients)
	}
	for id, n := range s.clients {
		if id%3 != 1 || n != 1 {
			t.Errorf("client %d connected %d times; want only indexes ≡ 1 mod 3, once each", id, n)
		}
	}
}

func TestSegmentOutOfRange(t *testing.T) {
	cfg := baseConfig()
	cfg.URL = "ws://127.0.0.1:1/"
	for _, seg := range [][2]int{{3, 3}, {-1, 2}, {0, -1}} {
		cfg.Segment, cfg.Segments = seg[0], seg[1]
		if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "segment") {
			t.Errorf("segment %d/%d: err = %v, want a segment error", seg[0], seg[1], err)
		}
	}
}
