package fleet

import (
	"sync"
	"time"
)

// maxAwaitedEchoes bounds the text messages a session awaits the echo of:
// past it, the oldest is given up (its echo, if it comes, counts as a
// message received), so a server that echoes only some messages cannot
// grow a client's memory.
const maxAwaitedEchoes = 128

// textEchoes are the periodic text messages a session sent and awaits the
// echo of, oldest first: a text message has no room for a send-time stamp,
// so an echo is known by its content. The sender adds, the read loop
// matches.
type textEchoes struct {
	mu      sync.Mutex
	awaited []awaitedEcho
	maxLen  int // the longest message awaited in the session
}

type awaitedEcho struct {
	text      string
	scheduled time.Time
}

// add awaits the echo of text, scheduled at sched.
func (q *textEchoes) add(text string, sched time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.awaited) == maxAwaitedEchoes {
		n := copy(q.awaited, q.awaited[1:])
		q.awaited = q.awaited[:n]
	}
	q.awaited = append(q.awaited, awaitedEcho{text: text, scheduled: sched})
	q.maxLen = max(q.maxLen, len(text))
}

// longest returns the length of the longest message awaited in the session.
func (q *textEchoes) longest() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.maxLen
}

// match takes the oldest awaited message equal to msg and returns its
// scheduled send time; false if none is. Messages sent before the match
// stay awaited: a server may answer out of order.
func (q *textEchoes) match(msg []byte) (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, a := range q.awaited {
		if a.text == string(msg) {
			q.awaited = append(q.awaited[:i], q.awaited[i+1:]...)
			return a.scheduled, true
		}
	}
	return time.Time{}, false
}
