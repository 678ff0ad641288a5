package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsstorm/wsstorm/internal/action"
)

// waitFor bounds every wait of the tests: generous, so a busy machine does
// not fail them, and only reached when something is broken.
const waitFor = 10 * time.Second

// upstream is the server behind the proxy in the tests: it counts its
// handshakes, echoes every message with its type, records the requests it
// got and the close code each connection ended with. A query can make it
// act: refuse=1 answers 503, close=CODE sends that close code after the
// upgrade, drop=1 cuts TCP after the upgrade.
type upstream struct {
	srv        *httptest.Server
	handshakes atomic.Int64
	requests   chan *http.Request
	closes     chan closeSeen
	pings      chan string
}

// closeSeen is how one upstream connection ended: the close code it read
// (1006 without one) and its reason.
type closeSeen struct {
	code   int
	reason string
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{
		requests: make(chan *http.Request, 256),
		closes:   make(chan closeSeen, 256),
		pings:    make(chan string, 16),
	}
	up := websocket.Upgrader{
		Subprotocols: []string{"chat.v2", "chat.v1"}, // the server's preference
		CheckOrigin:  func(*http.Request) bool { return true },
	}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("refuse") != "" {
			w.Header().Set("Retry-After", "7")
			w.Header().Set("X-Upstream-Reason", "full")
			http.Error(w, "upstream is full", http.StatusServiceUnavailable)
			return
		}
		u.handshakes.Add(1)
		ws, err := up.Upgrade(w, r, http.Header{"Set-Cookie": {"session=abc"}, "X-Upstream": {"yes"}})
		if err != nil {
			return
		}
		defer ws.Close()
		select {
		case u.requests <- r.Clone(context.Background()):
		default:
		}
		ws.SetPingHandler(func(data string) error {
			select {
			case u.pings <- data:
			default:
			}
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		if c := q.Get("close"); c != "" {
			code, _ := strconv.Atoi(c)
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "bye from upstream"), time.Now().Add(time.Second))
			ws.SetReadDeadline(time.Now().Add(waitFor))
		}
		if q.Get("drop") != "" {
			ws.NetConn().(*net.TCPConn).SetLinger(0)
			ws.NetConn().Close()
			return
		}
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				seen := closeSeen{code: websocket.CloseAbnormalClosure}
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					seen = closeSeen{ce.Code, ce.Text}
				}
				u.closes <- seen
				return
			}
			ws.WriteMessage(typ, msg)
		}
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// url is the upstream's ws:// URL with path appended.
func (u *upstream) url(path string) string {
	return "ws" + strings.TrimPrefix(u.srv.URL, "http") + path
}

// nextClose waits for the next connection end the upstream records.
func (u *upstream) nextClose(t *testing.T) closeSeen {
	t.Helper()
	select {
	case c := <-u.closes:
		return c
	case <-time.After(waitFor):
		t.Fatal("the upstream saw no connection end")
		return closeSeen{}
	}
}

// startProxy starts a proxy in front of upstream and shuts it down at the
// end of the test.
func startProxy(t *testing.T, opts Options) *Proxy {
	t.Helper()
	p, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return p
}

// dial connects a client to url; its reads give up after waitFor.
func dial(t *testing.T, url string, h http.Header, protos ...string) (*websocket.Conn, *http.Response) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitFor, Subprotocols: protos}
	ws, resp, err := d.Dial(url, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", url, err, status)
	}
	ws.SetReadDeadline(time.Now().Add(waitFor))
	t.Cleanup(func() { ws.Close() })
	return ws, resp
}

// refused dials url and returns the HTTP response of a refused handshake.
func refused(t *testing.T, url string) *http.Response {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitFor}
	ws, resp, err := d.Dial(url, nil)
	if err == nil {
		ws.Close()
		t.Fatalf("dial %s: connected, want a refusal", url)
	}
	if resp == nil {
		t.Fatalf("dial %s: %v, want an HTTP refusal", url, err)
	}
	return resp
}

// echo sends msg with typ and checks that it comes back the same.
func echo(t *testing.T, ws *websocket.Conn, typ int, msg []byte) {
	t.Helper()
	if err := ws.WriteMessage(typ, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotTyp, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if gotTyp != typ || string(got) != string(msg) {
		t.Fatalf("echo: got type %d, %d bytes; want type %d, %d bytes", gotTyp, len(got), typ, len(msg))
	}
}

// readClose reads until the connection ends and returns its close code
// (1014 too, which gorilla/websocket rejects) and reason.
func readClose(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		if strings.Contains(err.Error(), "bad close code 1014") {
			return CloseBadGateway, ""
		}
		return websocket.CloseAbnormalClosure, err.Error()
	}
}

// nodeOf returns the proxy node a handshake response names.
func nodeOf(t *testing.T, resp *http.Response) int {
	t.Helper()
	n, err := strconv.Atoi(resp.Header.Get(NodeHeader))
	if err != nil {
		t.Fatalf("%s header %q: %v", NodeHeader, resp.Header.Get(NodeHeader), err)
	}
	return n
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %v", what, waitFor)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// noLeak checks, at the end of the test, that the goroutines started since
// it was called have ended.
func noLeak(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitFor)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines, %d before the test:\n%s", runtime.NumGoroutine(), base, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// restartInBackground restarts node and returns a function that ends the
// restart early (if it still runs) and returns its result.
func restartInBackground(p *Proxy, node int, code int, downtime time.Duration) func() (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		closed int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		closed, err := action.RestartNode(ctx, p, node, restartSpec(code, downtime))
		done <- result{closed, err}
	}()
	var once sync.Once
	var res result
	return func() (int, error) {
		once.Do(func() {
			cancel()
			res = <-done
		})
		return res.closed, res.err
	}
}
