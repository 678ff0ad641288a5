package storm

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// The hostile-server tests point a short external-mode storm at one
// misbehaving in-process server each and check what a user would: the fault
// is recorded as the right failure reason or close code, the clients keep
// trying as their policy says, the run ends on time, and every attempt and
// session is accounted for.

// hostileRunSlack is how long past its duration a run may take to end: the
// clients' close handshakes (1 s at most) and the fleet draining.
const hostileRunSlack = 3 * time.Second

// hostileServe handles one accepted connection; done closes when the test
// ends. The connection is closed once it returns.
type hostileServe func(c net.Conn, done <-chan struct{})

// startHostile serves every connection to a loopback listener with serve
// until the test ends, and returns the ws:// URL of the listener.
func startHostile(t *testing.T, serve hostileServe) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
		done  = make(chan struct{})
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			select {
			case <-done:
				mu.Unlock()
				c.Close()
				return
			default:
			}
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				serve(c, done)
			})
		}
	})
	t.Cleanup(func() {
		mu.Lock()
		close(done)
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		ln.Close()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/socket"
}

// closedPort returns a ws:// URL on a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/socket"
}

// readHandshake reads the client's upgrade request and returns its
// Sec-WebSocket-Key.
func readHandshake(c net.Conn) (key string, ok bool) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		return "", false
	}
	return req.Header.Get("Sec-WebSocket-Key"), true
}

// acceptKey is the Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func switchingProtocols(accept string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
}

// upgrade completes a valid WebSocket handshake by hand.
func upgrade(c net.Conn) bool {
	key, ok := readHandshake(c)
	if !ok {
		return false
	}
	_, err := c.Write(switchingProtocols(acceptKey(key)))
	return err == nil
}

// Frame opcodes (RFC 6455 §5.2).
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
)

// frame is one unmasked, final server frame, whatever its payload says.
func frame(opcode byte, payload []byte) []byte { return rawFrame(0x80|opcode, payload) }

// rawFrame is an unmasked server frame whose first byte (FIN, RSV, opcode)
// is head.
func rawFrame(head byte, payload []byte) []byte {
	b := []byte{head}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// closeFrame is a close frame with any code and reason, valid or not.
func closeFrame(code int, reason string) []byte {
	return frame(opClose, append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...))
}

// drain reads and discards until the peer closes, for at most 2 s.
func drain(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, c)
}

// awaitClientClose waits, at most 2 s, for the client's close frame (the only
// thing these clients send) or for the client to go; the caller then closes
// TCP first, as a server should.
func awaitClientClose(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [256]byte
	_, _ = c.Read(b[:])
}

// answerHTTP answers the handshake with status and extra header lines.
func answerHTTP(status int, header string) hostileServe {
	return func(c net.Conn, _ <-chan struct{}) {
		if _, ok := readHandshake(c); !ok {
			return
		}
		body := http.StatusText(status) + "\n"
		fmt.Fprintf(c, "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			status, http.StatusText(status), header, len(body), body)
	}
}

// neverAnswers accepts TCP, reads the request and never answers it.
func neverAnswers(c net.Conn, _ <-chan struct{}) {
	_, _ = io.Copy(io.Discard, c)
}

// sendsFrames completes the handshake, writes frames, then closes once the
// client answers or goes.
func sendsFrames(frames ...[]byte) hostileServe {
	return func(c net.Conn, _ <-chan struct{}) {
		if !upgrade(c) {
			return
		}
		for _, f := range frames {
			_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write(f); err != nil {
				return
			}
		}
		awaitClientClose(c)
	}
}

// silent completes the handshake, then neither reads nor writes until the
// test ends: client writes pile up and close frames go unanswered.
func silent(c net.Conn, done <-chan struct{}) {
	if upgrade(c) {
		<-done
	}
}

// stopsReading is silent with a small receive buffer, so that client writes
// block sooner.
func stopsReading(c net.Conn, done <-chan struct{}) {
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	silent(c, done)
}

// hostileProfile is a short external-mode run of 4 clients against url
// that retry every 100 ms after a failure or a close.
func hostileProfile(url string) *profile.Profile {
	p := profile.Defaults()
	p.Name = "hostile"
	p.Duration = profile.Dur(1500 * time.Millisecond)
	p.Target.Mode = profile.ModeExternal
	p.Target.URL = url
	p.Chaos = nil
	f := &p.Fleet
	f.Clients = 4
	f.Ramp = profile.Dur(0)
	f.MaxDialing = 4
	f.HandshakeTimeout = profile.Dur(500 * time.Millisecond)
	f.WriteTimeout = profile.Dur(500 * time.Millisecond)
	f.ReadLimit = 1 << 20
	f.Session.SendInterval = profile.Dur(0)
	f.Session.Pause = profile.Dur(100 * time.Millisecond)
	f.Reconnect.Strategy = profile.StrategyConstant
	f.Reconnect.Base = profile.Dur(100 * time.Millisecond)
	f.Reconnect.FirstDelay = profile.Dur(0)
	return &p
}

// runHostile runs the storm p describes and checks that it ended within its
// duration plus hostileRunSlack and that its accounting holds.
func runHostile(t *testing.T, p *profile.Profile) *stats.Results {
	t.Helper()
	type outcome struct {
		res *stats.Results
		err error
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		run, err := Run(context.Background(), p, Options{})
		if err != nil {
			done <- outcome{err: err}
			return
		}
		done <- outcome{res: run.Results}
	}()
	limit := p.Duration.D() + hostileRunSlack
	var o outcome
	select {
	case o = <-done:
	case <-time.After(limit):
		t.Errorf("the run of %v had not ended %v after it started", p.Duration.D(), limit)
		select {
		case o = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("the run of %v had not ended a minute past its deadline", p.Duration.D())
		}
	}
	wall := time.Since(start)
	if o.err != nil {
		t.Fatalf("Run: %v", o.err)
	}
	c := o.res.Counters
	t.Logf("wall %v: attempts %d, connects %d, failures %v, closes %v, client_closes %d, reconnects %d, gave_up %d",
		wall.Round(time.Millisecond), c.ConnectAttempts, c.Connects, c.ConnectFailures, c.Closes,
		c.ClientCloses, c.Reconnects, c.GaveUp)
	checkAccounting(t, p.Fleet.Clients, o.res)
	return o.res
}

// checkAccounting checks the invariants every run keeps (DESIGN.md, issue 3):
// each attempt either connected or failed for one reason; each session a
// client observed ending was first connected; each reconnect follows a close;
// each chaos event's affected clients either reconnected or did not.
func checkAccounting(t *testing.T, clients int, r *stats.Results) {
	t.Helper()
	c := r.Counters
	failures := sum(c.ConnectFailures)
	closes := sum(c.Closes)
	if c.ConnectAttempts != c.Connects+failures {
		t.Errorf("connect_attempts %d != connects %d + connect_failures %d %v",
			c.ConnectAttempts, c.Connects, failures, c.ConnectFailures)
	}
	if c.Connects < closes+c.ClientCloses {
		t.Errorf("connects %d < closes %d %v + client_closes %d: a session ended that never began",
			c.Connects, closes, c.Closes, c.ClientCloses)
	}
	if c.Reconnects > closes {
		t.Errorf("reconnects %d > closes %d %v: a reconnect without a close", c.Reconnects, closes, c.Closes)
	}
	// A client has at most one dial in flight when the run ends.
	cancelled := c.ConnectFailures[stats.Cancelled.String()]
	if c.GaveUp > int64(clients) || r.PeakConnected > int64(clients) || cancelled > int64(clients) {
		t.Errorf("gave_up %d, peak_connected %d, cancelled attempts %d: more than the %d clients",
			c.GaveUp, r.PeakConnected, cancelled, clients)
	}
	for reason, n := range c.ConnectFailures {
		if n <= 0 {
			t.Errorf("connect_failures[%s] = %d", reason, n)
		}
	}
	for code, n := range c.Closes {
		if n <= 0 {
			t.Errorf("closes[%d] = %d", code, n)
		}
	}
	for _, e := range r.Events {
		if e.Affected != e.Reconnected+e.NeverReconnected || e.NeverReconnected < 0 {
			t.Errorf("event %d: affected %d != reconnected %d + never_reconnected %d",
				e.Index, e.Affected, e.Reconnected, e.NeverReconnected)
		}
	}
}

func sum[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// onlyReasons fails the test unless every failed attempt is one of want or
// was cut short by the run's end.
func onlyReasons(t *testing.T, failures map[string]int64, want ...string) {
	t.Helper()
	for _, reason := range slices.Sorted(maps.Keys(failures)) {
		if reason != stats.Cancelled.String() && !slices.Contains(want, reason) {
			t.Errorf("%d attempts failed with %q, want only %q (or %q)",
				failures[reason], reason, want, stats.Cancelled.String())
		}
	}
}

// TestHostileHandshake: servers that never let a handshake succeed. Every
// attempt fails with the server's fault as its reason, and the clients keep
// trying every 100 ms (or as Retry-After says).
func TestHostileHandshake(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		url    func(t *testing.T) string
		tune   func(p *profile.Profile)
		reason string
		// minPerClient and maxPerClient bound the attempts per client
		// (0: no bound beyond "kept trying").
		minPerClient, maxPerClient int64
	}{
		{name: "refuses connections", url: closedPort, reason: "refused", minPerClient: 5},
		{name: "never answers the handshake", reason: "timeout",
			url: func(t *testing.T) string { return startHostile(t, neverAnswers) }},
		{name: "HTTP 500", reason: "http_500", minPerClient: 5,
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(500, "")) }},
		{name: "HTTP 403", reason: "http_403", minPerClient: 5,
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(403, "")) }},
		{name: "HTTP 404", reason: "http_404", minPerClient: 5,
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(404, "")) }},
		{name: "HTTP 503 without Retry-After", reason: "http_503", minPerClient: 5,
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(503, "")) }},
		{name: "HTTP 503 with Retry-After", reason: "http_503", maxPerClient: 3,
			// 1 s between attempts instead of 100 ms: 2 in a 1.5 s run.
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(503, "Retry-After: 1\r\n")) }},
		{name: "HTTP 503 with a malformed Retry-After", reason: "http_503", minPerClient: 5,
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(503, "Retry-After: soon\r\n")) }},
		{name: "HTTP 503 with a negative Retry-After", reason: "http_503", minPerClient: 5,
			url: func(t *testing.T) string { return startHostile(t, answerHTTP(503, "Retry-After: -1\r\n")) }},
		{name: "101 without a valid Sec-WebSocket-Accept", reason: "bad_handshake", minPerClient: 5,
			url: func(t *testing.T) string {
				return startHostile(t, func(c net.Conn, _ <-chan struct{}) {
					if key, ok := readHandshake(c); ok {
						_, _ = c.Write(switchingProtocols(acceptKey(key + "x")))
						drain(c)
					}
				})
			}},
		{name: "resets mid-handshake", reason: "reset", minPerClient: 5,
			url: func(t *testing.T) string {
				return startHostile(t, func(c net.Conn, _ <-chan struct{}) {
					if _, ok := readHandshake(c); ok {
						_ = c.(*net.TCPConn).SetLinger(0)
					}
				})
			}},
		{name: "trickles the response", reason: "timeout",
			url: func(t *testing.T) string {
				return startHostile(t, func(c net.Conn, done <-chan struct{}) {
					key, ok := readHandshake(c)
					if !ok {
						return
					}
					resp := switchingProtocols(acceptKey(key))
					for i := range resp {
						select {
						case <-done:
							return
						case <-time.After(200 * time.Millisecond):
						}
						if _, err := c.Write(resp[i : i+1]); err != nil {
							return
						}
					}
				})
			}},
		{name: "never answers, handshake timeout longer than the run", reason: "cancelled",
			// The run's end must cut the dials short: its deadline holds
			// even when the target hangs.
			tune: func(p *profile.Profile) { p.Fleet.HandshakeTimeout = profile.Dur(10 * time.Second) },
			url:  func(t *testing.T) string { return startHostile(t, neverAnswers) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := hostileProfile(tc.url(t))
			if tc.tune != nil {
				tc.tune(p)
			}
			res := runHostile(t, p)
			c := res.Counters
			clients := int64(p.Fleet.Clients)
			if c.ConnectFailures[tc.reason] == 0 {
				t.Errorf("no attempt failed with %q: failures %v", tc.reason, c.ConnectFailures)
			}
			onlyReasons(t, c.ConnectFailures, tc.reason)
			if c.Connects != 0 {
				t.Errorf("connects = %d against a server that lets no handshake succeed", c.Connects)
			}
			if tc.reason != "cancelled" && c.ConnectAttempts <= clients {
				t.Errorf("connect_attempts = %d for %d clients: the clients did not keep trying", c.ConnectAttempts, clients)
			}
			if tc.minPerClient > 0 && c.ConnectAttempts < tc.minPerClient*clients {
				t.Errorf("connect_attempts = %d, want at least %d (%d per client, 100 ms apart)",
					c.ConnectAttempts, tc.minPerClient*clients, tc.minPerClient)
			}
			if tc.maxPerClient > 0 && c.ConnectAttempts > tc.maxPerClient*clients {
				t.Errorf("connect_attempts = %d, want at most %d: Retry-After not honoured",
					c.ConnectAttempts, tc.maxPerClient*clients)
			}
		})
	}
}

// TestHostileSession: servers that complete the handshake, then misbehave.
// Each session ends with the close code the fault stands for and the clients
// reconnect, as the default policy says for every code but 1000.
func TestHostileSession(t *testing.T) {
	if testing.Short() {
		t.Skip("sixteen runs against hostile servers (~12 s): the full suite runs it")
	}
	t.Parallel()
	longReason := strings.Repeat("r", 200)
	for _, tc := range []struct {
		name  string
		serve hostileServe
		tune  func(p *profile.Profile)
		code  int
	}{
		{name: "frame beyond the read limit", code: 1009,
			serve: sendsFrames(frame(opBinary, make([]byte, 64<<10))),
			tune:  func(p *profile.Profile) { p.Fleet.ReadLimit = 4096 }},
		{name: "text frame not UTF-8", code: 1007,
			serve: sendsFrames(frame(opText, []byte("ok \xff\xfe"))),
		},
		{name: "text message not UTF-8 across fragments", code: 1007,
			// A rune's lead byte ends the first fragment (past the 64 bytes
			// the client looks at first); its continuation is not one.
			serve: sendsFrames(rawFrame(opText, append([]byte(strings.Repeat("a", 69)), 0xc3)), rawFrame(0x80, []byte("z"))),
		},
		{name: "close 1005 on the wire", code: 1002, serve: sendsFrames(closeFrame(1005, ""))},
		{name: "close 1006 on the wire", code: 1002, serve: sendsFrames(closeFrame(1006, ""))},
		{name: "close 1015 on the wire", code: 1002, serve: sendsFrames(closeFrame(1015, ""))},
		{name: "close code 999", code: 1002, serve: sendsFrames(closeFrame(999, ""))},
		{name: "close code 5000", code: 1002, serve: sendsFrames(closeFrame(5000, ""))},
		{name: "close reason longer than 123 bytes", code: 1002, serve: sendsFrames(closeFrame(1001, longReason))},
		{name: "close reason not UTF-8", code: 1002, serve: sendsFrames(closeFrame(1001, "bye \xff"))},
		{name: "close 1014", code: 1014, serve: sendsFrames(closeFrame(1014, "upstream down"))},
		{name: "closes TCP without a close frame", code: 1006,
			serve: func(c net.Conn, _ <-chan struct{}) {
				if upgrade(c) {
					time.Sleep(20 * time.Millisecond)
				}
			}},
		{name: "stops reading", code: 1006, serve: stopsReading,
			// 64 KiB every 10 ms fills the socket buffers in about 0.6 s;
			// the write timeout must then fail the connection.
			tune: func(p *profile.Profile) {
				p.Duration = profile.Dur(2500 * time.Millisecond)
				p.Fleet.Session.SendInterval = profile.Dur(10 * time.Millisecond)
				p.Fleet.Session.PayloadBytes = 64 << 10
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := hostileProfile(startHostile(t, tc.serve))
			if tc.tune != nil {
				tc.tune(p)
			}
			res := runHostile(t, p)
			c := res.Counters
			if c.Closes[tc.code] == 0 {
				t.Errorf("no close recorded with %d: closes %v", tc.code, c.Closes)
			}
			for code, n := range c.Closes {
				if code != tc.code {
					t.Errorf("%d closes recorded with %d, want only %d", n, code, tc.code)
				}
			}
			if c.Reconnects == 0 {
				t.Errorf("no reconnect after closes %v: the policy reconnects on %d", c.Closes, tc.code)
			}
			onlyReasons(t, c.ConnectFailures)
		})
	}
}

// TestHostileUnansweredClose: a server that never answers the client's close
// frame holds up neither the clients, which close after their lifetime and
// connect again, nor the end of the run.
func TestHostileUnansweredClose(t *testing.T) {
	if testing.Short() {
		t.Skip("a run against a hostile server (~3 s): the full suite runs it")
	}
	t.Parallel()
	p := hostileProfile(startHostile(t, silent))
	p.Duration = profile.Dur(2 * time.Second)
	p.Fleet.Session.Lifetime = profile.Dur(300 * time.Millisecond)
	res := runHostile(t, p)
	c := res.Counters
	clients := int64(p.Fleet.Clients)
	if c.ClientCloses < clients {
		t.Errorf("client_closes = %d, want at least %d (each client ends its first session)", c.ClientCloses, clients)
	}
	if c.Connects <= clients {
		t.Errorf("connects = %d for %d clients: no client connected again after its unanswered close", c.Connects, clients)
	}
	if n := sum(c.Closes); n != 0 {
		t.Errorf("closes %v: the server closed nothing", c.Closes)
	}
	onlyReasons(t, c.ConnectFailures)
}

// TestHostileStalledWritesEndOnTime: a server that stops reading while the
// write timeout is longer than the rest of the run. The run's end must not
// wait for the blocked writes to time out: the deadline holds even when the
// target hangs.
func TestHostileStalledWritesEndOnTime(t *testing.T) {
	if testing.Short() {
		t.Skip("a run against a hostile server (~3 s): the full suite runs it")
	}
	t.Parallel()
	p := hostileProfile(startHostile(t, stopsReading))
	p.Fleet.WriteTimeout = profile.Dur(10 * time.Second)
	p.Fleet.Session.SendInterval = profile.Dur(10 * time.Millisecond)
	p.Fleet.Session.PayloadBytes = 64 << 10
	res := runHostile(t, p)
	c := res.Counters
	if c.Connects != int64(p.Fleet.Clients) {
		t.Errorf("connects = %d, want one per client (%d)", c.Connects, p.Fleet.Clients)
	}
	if n := sum(c.Closes); n != 0 {
		t.Errorf("closes %v: no write could time out within the run, and the run's end is no close", c.Closes)
	}
	onlyReasons(t, c.ConnectFailures)
}

// closesWhileClientWriteBlocked stops reading, lets the client's writes
// block, then sends a close frame and keeps TCP open.
func closesWhileClientWriteBlocked(c net.Conn, done <-chan struct{}) {
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	if !upgrade(c) {
		return
	}
	select {
	case <-time.After(1500 * time.Millisecond): // long enough to fill the socket buffers
	case <-done:
		return
	}
	if _, err := c.Write(closeFrame(1001, "")); err != nil {
		return
	}
	<-done
}

// TestHostileCloseWhileWriteBlocked: the server ends the session while the
// client's write is blocked on it; the client reacts to the close at once,
// not after its (long) write timeout, and the run ends on time.
func TestHostileCloseWhileWriteBlocked(t *testing.T) {
	if testing.Short() {
		t.Skip("a run against a hostile server (~4 s): the full suite runs it")
	}
	t.Parallel()
	p := hostileProfile(startHostile(t, closesWhileClientWriteBlocked))
	p.Duration = profile.Dur(3 * time.Second)
	p.Fleet.WriteTimeout = profile.Dur(30 * time.Second)
	p.Fleet.Session.SendInterval = profile.Dur(10 * time.Millisecond)
	p.Fleet.Session.PayloadBytes = 64 << 10
	res := runHostile(t, p)
	if res.Counters.Closes[1001] == 0 || res.Counters.Reconnects == 0 {
		t.Fatalf("closes %v, reconnects %d: the clients did not react to the close", res.Counters.Closes, res.Counters.Reconnects)
	}
}
