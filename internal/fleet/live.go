package fleet

import (
	"context"
	"sync"

	"github.com/gorilla/websocket"
)

// liveSessions are a fleet's sessions in progress, which the run's end
// closes with 1001 (going away). One watch of the run's context serves them
// all: a context.AfterFunc per session would cost each session a context of
// its own and a slot in the run context's children. Its zero value is ready
// to use.
type liveSessions struct {
	mu sync.Mutex
	// done is the Done channel of the run's context, watched since the
	// run's first session; ended says it is closed.
	done  <-chan struct{}
	ended bool
	first *liveSession
}

// add registers s, which ctx's end closes; at once if ctx has ended.
func (l *liveSessions) add(ctx context.Context, s *liveSession) {
	done := ctx.Done()
	if done == nil {
		return // the run never ends
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if done != l.done {
		l.done, l.ended = done, false
		context.AfterFunc(ctx, func() { l.end(done) })
	}
	if l.ended {
		go s.closeFromClient(endingStopped, websocket.CloseGoingAway)
		return
	}
	s.nextLive = l.first
	if l.first != nil {
		l.first.prevLive = s
	}
	l.first = s
}

// remove unregisters s, if it was registered.
func (l *liveSessions) remove(s *liveSession) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case s.prevLive != nil:
		s.prevLive.nextLive = s.nextLive
	case l.first == s:
		l.first = s.nextLive
	}
	if s.nextLive != nil {
		s.nextLive.prevLive = s.prevLive
	}
	s.prevLive, s.nextLive = nil, nil
}

// end closes every session of the run whose context's Done is done, each
// from a goroutine of its own: a close waits for its write, up to the close
// timeout.
func (l *liveSessions) end(done <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if done != l.done {
		return
	}
	l.ended = true
	for s := l.first; s != nil; s = s.nextLive {
		go s.closeFromClient(endingStopped, websocket.CloseGoingAway)
	}
}
