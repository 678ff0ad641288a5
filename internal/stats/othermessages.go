package stats

import (
	"slices"
	"sync"
	"sync/atomic"
)

// MaxOtherMessages is how many distinct messages of failures with reason
// Other a run keeps: enough to name what Other stands for, few enough to
// read.
const MaxOtherMessages = 5

// keepMessage returns msgs with msg added at the end unless msgs holds it
// already or holds MaxOtherMessages.
func keepMessage(msgs []string, msg string) []string {
	if len(msgs) >= MaxOtherMessages || slices.Contains(msgs, msg) {
		return msgs
	}
	return append(msgs, msg)
}

// otherMessages keeps the first distinct messages of a run's Other
// failures. Other is rare, so one lock for the whole recorder does.
type otherMessages struct {
	full atomic.Bool // no more messages are kept: the common case takes no lock
	mu   sync.Mutex
	msgs []string
}

func (o *otherMessages) keep(msg string) {
	if o.full.Load() {
		return
	}
	o.mu.Lock()
	o.msgs = keepMessage(o.msgs, msg)
	o.full.Store(len(o.msgs) >= MaxOtherMessages)
	o.mu.Unlock()
}

// list returns a copy of the messages kept, nil when none.
func (o *otherMessages) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.msgs)
}
