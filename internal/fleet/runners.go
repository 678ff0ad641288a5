package fleet

import (
	"sync"
	"time"
)

// runnerIdle is how long an attempt runner waits for another attempt before
// it ends.
const runnerIdle = 100 * time.Millisecond

// attemptRunners are goroutines that run connect attempts while the
// clients' goroutines wait (see client.connect). A runner takes attempt
// after attempt while they keep coming, so its stack, grown by a
// handshake, serves the next; one starts when none is free, and ends once
// idle for runnerIdle or the run has ended. Its zero value is ready to use.
type attemptRunners struct {
	once sync.Once
	next chan *connectAttempt // to a free runner
}

// run runs a on a runner and returns once it is done.
func (r *attemptRunners) run(a *connectAttempt) {
	r.once.Do(func() { r.next = make(chan *connectAttempt) })
	a.done.Add(1)
	select {
	case r.next <- a:
	default:
		go r.serve(a)
	}
	a.done.Wait()
}

// serve is a runner: it runs a, then the attempts that come while it is free.
func (r *attemptRunners) serve(a *connectAttempt) {
	idle := time.NewTimer(runnerIdle)
	defer idle.Stop()
	for {
		end := a.ctx.Done()
		a.attempt()
		a.done.Done() // a is its client's again
		idle.Reset(runnerIdle)
		select {
		case a = <-r.next:
		case <-idle.C:
			return
		case <-end:
			return
		}
	}
}
