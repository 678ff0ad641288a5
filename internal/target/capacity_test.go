package target

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// wantUnavailable checks that a dial was refused with 503 and Retry-After.
func wantUnavailable(t *testing.T, url, retryAfter string) {
	t.Helper()
	c, resp, err := tryDial(url)
	if err == nil {
		c.conn.Close()
		t.Fatalf("dial succeeded on node %d, want 503", c.node)
	}
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("dial failed with %v, want a 503 response", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != retryAfter {
		t.Errorf("dial got %d with Retry-After %q, want 503 with %q", resp.StatusCode, resp.Header.Get("Retry-After"), retryAfter)
	}
}

func TestAcceptRateRejectsExcessHandshakes(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1, Capacity: profile.Capacity{
		AcceptRate:  0.5, // one token per 2 s: none comes back during the test
		AcceptBurst: 2,
		RetryAfter:  profile.Dur(1500 * time.Millisecond),
	}})
	dial(t, tg.URL())
	dial(t, tg.URL())
	wantUnavailable(t, tg.URL(), "2")
	wantUnavailable(t, tg.URL(), "2")
	if s := tg.Stats()[0]; s.Accepted != 2 || s.Rejected != 2 || s.Conns != 2 {
		t.Errorf("Stats()[0] = %+v, want 2 accepted, 2 rejected, 2 open", s)
	}
}

func TestAcceptBurstDefaultsToOneSecond(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1, Capacity: profile.Capacity{AcceptRate: 0.5}})
	dial(t, tg.URL()) // ceil(0.5) = a burst of 1
	wantUnavailable(t, tg.URL(), "1")
}

func TestMaxConnsRejectsOverCapacity(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, Options{Nodes: 1, Capacity: profile.Capacity{MaxConns: 2}})
	first := dial(t, tg.URL())
	dial(t, tg.URL())
	wantUnavailable(t, tg.URL(), "1")

	first.conn.Close()
	waitFor(t, "the node to free a slot", func() bool { return tg.Stats()[0].Conns == 1 })
	dial(t, tg.URL())
	if s := tg.Stats()[0]; s.Accepted != 3 || s.Rejected != 1 || s.Conns != 2 {
		t.Errorf("Stats()[0] = %+v, want 3 accepted, 1 rejected, 2 open", s)
	}
}

func TestHandshakeDelayDelaysTheUpgrade(t *testing.T) {
	t.Parallel()
	const delay = 200 * time.Millisecond
	tg := startTarget(t, Options{Nodes: 1, Capacity: profile.Capacity{HandshakeDelay: profile.Dur(delay)}})
	start := time.Now()
	dial(t, tg.URL())
	if took := time.Since(start); took < delay {
		t.Errorf("handshake took %v, want at least %v", took, delay)
	}
}

func TestRetryAfterRoundsUpToSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int64
	}{
		{0, 1},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{2 * time.Second, 2},
		{2*time.Second + time.Millisecond, 3},
	}
	for _, tt := range tests {
		if got := RetryAfterSeconds(tt.d); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
