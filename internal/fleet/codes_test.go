package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// dialErr returns err as net.Dialer returns a failed system call: an
// *net.OpError around an *os.SyscallError.
func dialErr(call string, errno syscall.Errno) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		Err: os.NewSyscallError(call, errno)}
}

// TestClassifyLocalFailures: the failures the client's machine reports
// are named, as net.Dialer and gorilla/websocket return them.
func TestClassifyLocalFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want stats.Reason
	}{
		{"ephemeral ports exhausted", dialErr("connect", syscall.EADDRNOTAVAIL), stats.NoSourcePort},
		{"port-0 bind exhausted", dialErr("bind", syscall.EADDRINUSE), stats.NoSourcePort},
		{"process out of descriptors", dialErr("socket", syscall.EMFILE), stats.TooManyOpenFiles},
		{"system out of descriptors", dialErr("socket", syscall.ENFILE), stats.TooManyOpenFiles},
		{"network unreachable", dialErr("connect", syscall.ENETUNREACH), stats.Unreachable},
		{"host unreachable", dialErr("connect", syscall.EHOSTUNREACH), stats.Unreachable},
		{"no such host", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ws.example.invalid", IsNotFound: true}}, stats.DNS},
		{"dns timeout stays a timeout", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "ws.example.invalid", IsTimeout: true}}, stats.Timeout},
		{"wrapped by url.Error", &url.Error{Op: "Get", URL: "ws://x/", Err: dialErr("socket", syscall.EMFILE)}, stats.TooManyOpenFiles},
		{"still other", errors.New("something new"), stats.Other},
	} {
		if got := classify(tc.err, nil, false); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestClassifyRealDial: a real dial of a loopback port nothing listens on
// is refused, through gorilla/websocket as a client dials.
func TestClassifyRealDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err == nil {
		t.Fatal("a closed port took the dial")
	}
	if got := classify(err, resp, false); got != stats.Refused {
		t.Errorf("%v: %v, want refused", err, got)
	}
}

func TestFailureMessage(t *testing.T) {
	src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53211}
	dst := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a URL and its token are left out",
			&url.Error{Op: "Get", URL: "wss://ws.example.test/?token=s3cret", Err: errors.New("proxyconnect tcp: boom")},
			"proxyconnect tcp: boom"},
		{"the source port is left out",
			&net.OpError{Op: "read", Net: "tcp", Source: src, Addr: dst, Err: os.NewSyscallError("read", syscall.EPROTO)},
			"read tcp 127.0.0.1:8080: read: protocol error"},
		{"control characters are replaced", errors.New("bad \x1b[31mred\r\n"), "bad ?[31mred??"},
		{"long messages are cut", errors.New(strings.Repeat("é", 150)), strings.Repeat("é", 100) + "…"},
	} {
		if got := failureMessage(tc.err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestOtherFailureMessages: a server that answers the handshake with
// garbage fails the attempt as other; the run keeps what it said, without
// the URL's query.
func TestOtherFailureMessages(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				if _, err := http.ReadRequest(r); err == nil {
					fmt.Fprint(c, "HELLO\r\n\r\n")
				}
			}()
		}
	}()
	cfg := baseConfig()
	cfg.Clients = 3
	cfg.URL = "ws://" + ln.Addr().String() + "/?token=s3cret"
	cfg.Backoff = constant(time.Millisecond)
	cfg.MaxAttempts = 2
	h := runFleet(t, nil, cfg, nil)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("clients did not give up")
	}
	c := h.results().Counters
	if c.ConnectFailures["other"] != 6 {
		t.Fatalf("failures %v, want other=6", c.ConnectFailures)
	}
	if want := []string{`malformed HTTP response "HELLO"`}; len(c.OtherFailures) != 1 || c.OtherFailures[0] != want[0] {
		t.Errorf("messages %q, want %q", c.OtherFailures, want)
	}
	for _, m := range c.OtherFailures {
		if strings.Contains(m, "s3cret") {
			t.Errorf("a message holds the URL's token: %q", m)
		}
	}
}
