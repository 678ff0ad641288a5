package standalone

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/nodes"
	"github.com/wsstorm/wsstorm/internal/target"
)

// lockedBuffer is a buffer that Serve and an observer may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeObserve: the observer runs while the server serves, reads its
// nodes' status, and has returned before Serve says it stops, so a status
// it drew is gone before that line.
func TestServeObserve(t *testing.T) {
	var out lockedBuffer
	seen := make(chan []nodes.Status, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{
			Target: target.Options{Nodes: 2, Listen: "127.0.0.1:0"},
			Admin:  "127.0.0.1:0",
			Out:    &out,
			Observe: func(ctx context.Context, status func() []nodes.Status) {
				seen <- status()
				<-ctx.Done()
				time.Sleep(50 * time.Millisecond) // a slow clear must still come first
				fmt.Fprintln(&out, "observer done")
			},
		})
	}()
	select {
	case st := <-seen:
		if len(st) != 2 || st[0].State != nodes.StateUp || st[1].Index != 1 {
			t.Errorf("status %+v, want two nodes up", st)
		}
	case err := <-done:
		t.Fatalf("Serve returned before observing: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not observed in 10s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still running 10s after its context ended")
	}
	text := out.String()
	if i, j := strings.Index(text, "observer done"), strings.Index(text, "stopping:"); i < 0 || j < i {
		t.Errorf("the observer did not end before serve said it stops:\n%s", text)
	}
}
