package fleet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// TestLiveSessionsGoAwayAtTheRunsEnd: the run's end closes the sessions
// registered before it with 1001, and at once a session registered after
// it; a session that ended is left alone.
func TestLiveSessionsGoAwayAtTheRunsEnd(t *testing.T) {
	codes := make(chan int, 3)
	url := wsServer(t, func(c *websocket.Conn) {
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			codes <- ce.Code
		} else {
			codes <- -1
		}
	})
	cfg := baseConfig()
	cfg.URL = url
	f, err := New(cfg, stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	session := func() *liveSession {
		c := newClient(f, 0)
		hs, _, err := c.dial(context.Background(), -1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { hs.conn.Close() })
		s := &liveSession{c: c, conn: hs.conn}
		s.recorded.Add(1)
		return s
	}
	ctx, cancel := context.WithCancel(context.Background())
	before, ended := session(), session()
	f.live.add(ctx, before)
	f.live.add(ctx, ended)
	ended.ending.Store(endedByServer)
	f.live.remove(ended)
	cancel()
	after := session()
	f.live.add(ctx, after)

	for range 2 {
		select {
		case code := <-codes:
			if code != websocket.CloseGoingAway {
				t.Errorf("server saw close %d, want 1001", code)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a session was not closed at the run's end")
		}
	}
	for _, s := range []*liveSession{before, after} {
		s.recorded.Wait()
		if why := s.ending.Load(); why != endingStopped {
			t.Errorf("session ending %d, want %d (stopped)", why, endingStopped)
		}
	}
	if f.live.first != before || before.nextLive != nil {
		t.Error("the live list holds other than the session registered before the end")
	}
	f.live.remove(before)
	if f.live.first != nil {
		t.Error("the live list is not empty")
	}
}
