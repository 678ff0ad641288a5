package action

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// What a Pick and a spread mean, shared by the targets that end connections
// themselves (the embedded target, the chaos proxy) and by the simulator, so
// that an End means the same on each.

// MaxCloseReason is the longest close reason a close frame carries, in bytes.
const MaxCloseReason = 123

// closeParallelism bounds the close frames written at once.
const closeParallelism = 32

// CloseCode applies the default to a zero code and checks that the code and
// reason fit a close frame. Any code from 1000 to 4999 may be sent, including
// reserved ones such as 1014, since testing clients against them is the point.
func CloseCode(code, def int, reason string) (int, error) {
	if code == 0 {
		code = def
	}
	if code < 1000 || code > 4999 {
		return 0, fmt.Errorf("close code %d is outside 1000-4999", code)
	}
	if len(reason) > MaxCloseReason {
		return 0, fmt.Errorf("close reason is %d bytes, at most %d fit a close frame", len(reason), MaxCloseReason)
	}
	return code, nil
}

// Check checks an ending, with def as the code of a zero Code, and returns
// it with its code; a drop needs no code.
func (e Ending) Check(def int) (Ending, error) {
	if e.Drop {
		return e, nil
	}
	code, err := CloseCode(e.Code, def, e.Reason)
	e.Code = code
	return e, err
}

// Check checks a pick of a target with nodes nodes.
func (p Pick) Check(nodes int) error {
	switch {
	case !(p.Fraction >= 0 && p.Fraction <= 1):
		return fmt.Errorf("fraction is %v, want it in [0, 1]", p.Fraction)
	case p.Node < -1 || p.Node >= nodes:
		return fmt.Errorf("node %d: the target has nodes 0 to %d", p.Node, nodes-1)
	}
	return nil
}

// Select returns the connections p picks of open, which are in the order
// they opened: every one in that order when p.Fraction is 0, else those
// Choose picks, in the order picked. It reorders open.
func Select[T any](p Pick, open []T) []T {
	if p.Fraction == 0 {
		return open
	}
	k := CloseCount(p.Fraction, len(open))
	Choose(open, k, p.Seed)
	return open[:k]
}

// DrainOffset is when, after the drain starts, the i-th of k connections is
// closed: the first at once, the last at the end of the window.
func DrainOffset(drain time.Duration, i, k int) time.Duration {
	if k < 2 || drain <= 0 {
		return 0
	}
	return time.Duration(float64(drain) * float64(i) / float64(k-1))
}

// CloseCount is how many of open connections a close of fraction ends:
// round(fraction × open), at least one when any is open.
func CloseCount(fraction float64, open int) int {
	if fraction <= 0 || open == 0 {
		return 0
	}
	k := int(math.Round(fraction * float64(open)))
	return min(max(k, 1), open)
}

// Choose moves the k of open that a close with seed picks to its front, in
// the order picked: a partial Fisher-Yates shuffle drawn from seed, so the
// same connections in the same order give the same choice.
func Choose[T any](open []T, k int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range min(k, len(open)) {
		j := i + rng.IntN(len(open)-i)
		open[i], open[j] = open[j], open[i]
	}
}

// CloseEach calls closeOne for every item, a bounded number at a time, and
// returns how many it reported closed (the others were closing already).
func CloseEach[T any](items []T, closeOne func(T) bool) int {
	if len(items) == 1 {
		if closeOne(items[0]) {
			return 1
		}
		return 0
	}
	var (
		closed atomic.Int64
		wg     sync.WaitGroup
		slots  = make(chan struct{}, closeParallelism)
	)
	for _, it := range items {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if closeOne(it) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	return int(closed.Load())
}

// CheckEnd checks an End of pick p on a target of nodes nodes, ending as e
// says (a zero code: def), and that ctx is live; it returns e with its code.
func CheckEnd(ctx context.Context, nodes int, p Pick, e Ending, def int) (Ending, error) {
	if err := p.Check(nodes); err != nil {
		return e, fmt.Errorf("end: %w", err)
	}
	e, err := e.Check(def)
	if err != nil {
		return e, fmt.Errorf("end: %w", err)
	}
	return e, ctx.Err()
}

// Spread ends what p picks of open (in the order they opened), spread
// evenly over spread from now, handing closeBatch each batch that is due
// together, and returns how many closeBatch reported ended. It stops early
// with ctx's error when ctx ends, and with errStopped() when the target
// shuts down (stopped closes).
func Spread[T any](ctx context.Context, stopped <-chan struct{}, errStopped func() error, p Pick, open []T, spread time.Duration, closeBatch func([]T) int) (int, error) {
	w := newWaiter(ctx, stopped, errStopped)
	defer w.stop()
	return drainClose(w, time.Now(), spread, Select(p, open), closeBatch)
}

// waiter sleeps until given times unless its context ends or its target
// shuts down (done closes), reusing one timer.
type waiter struct {
	ctx     context.Context
	done    <-chan struct{}
	errDone func() error
	timer   *time.Timer
}

// newWaiter returns a waiter; errDone is the error until returns once done
// is closed. Stop it when done with it.
func newWaiter(ctx context.Context, done <-chan struct{}, errDone func() error) *waiter {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	return &waiter{ctx: ctx, done: done, errDone: errDone, timer: timer}
}

// until waits for deadline. It returns ctx.Err() if the context ends first,
// and errDone() if the target shuts down first.
func (w *waiter) until(deadline time.Time) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	select {
	case <-w.done:
		return w.errDone()
	default:
	}
	d := time.Until(deadline)
	if d <= 0 {
		return nil
	}
	w.timer.Reset(d)
	select {
	case <-w.timer.C:
		return nil
	case <-w.ctx.Done():
		w.timer.Stop()
		return w.ctx.Err()
	case <-w.done:
		w.timer.Stop()
		return w.errDone()
	}
}

// stop releases the waiter's timer.
func (w *waiter) stop() { w.timer.Stop() }

// drainClose closes open spread evenly over drain from start, each batch
// of connections that are due together with one closeBatch call, and
// returns how many it closed. It stops early with the waiter's error.
func drainClose[T any](w *waiter, start time.Time, drain time.Duration, open []T, closeBatch func([]T) int) (closed int, err error) {
	for i := 0; i < len(open); {
		if err := w.until(start.Add(DrainOffset(drain, i, len(open)))); err != nil {
			return closed, err
		}
		// Close everything due by now, catching up if closing ran late.
		j, now := i+1, time.Now()
		for j < len(open) && !start.Add(DrainOffset(drain, j, len(open))).After(now) {
			j++
		}
		closed += closeBatch(open[i:j])
		i = j
	}
	return closed, nil
}
