package fleet

import (
	"cmp"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// Rules decide whether and when a client dials again: after a close, by its
// code, and after a failed attempt, by the backoff and the server's
// Retry-After. The fleet's clients and wsstorm simulate's both follow them,
// drawing from the same per-client random stream (ClientRand) in the same
// order, so a simulated client waits exactly what a real one would.
type Rules struct {
	Backoff         backoff.Backoff
	Policy          *Policy
	FirstDelay      time.Duration // upper bound of a random extra wait before the first reconnect attempt
	MaxAttempts     int           // failed attempts in a row before giving up; 0: never
	HonorRetryAfter bool          // wait at least a 503's Retry-After, up to RetryAfterCap
	RetryAfterCap   time.Duration // longest Retry-After honoured (0: no limit)
}

// defaultRetryAfterCap bounds an honoured Retry-After when reconnect.cap is 0.
const defaultRetryAfterCap = 30 * time.Second

// RulesFromProfile returns the reconnect rules of a validated profile.
func RulesFromProfile(p *profile.Profile) (Rules, error) {
	r := p.Fleet.Reconnect
	b, err := NewBackoff(r)
	if err != nil {
		return Rules{}, err
	}
	pol, err := NewPolicy(r, p.Fleet.ProtocolCodes())
	if err != nil {
		return Rules{}, err
	}
	return Rules{
		Backoff:         b,
		Policy:          pol,
		FirstDelay:      r.FirstDelay.D(),
		MaxAttempts:     r.MaxAttempts,
		HonorRetryAfter: r.HonorRetryAfter,
		RetryAfterCap:   cmp.Or(r.Cap.D(), defaultRetryAfterCap),
	}, nil
}

// Retry is a client's place in a sequence of connect attempts: from a close
// (or its start) to its next successful handshake. The zero Retry is a
// client that has made no attempt yet.
type Retry struct {
	attempts int           // attempts in the current sequence
	prev     time.Duration // the backoff delay before the latest attempt
}

// Attempt counts a connect attempt about to start.
func (r *Retry) Attempt() { r.attempts++ }

// Connected ends the sequence: the attempt succeeded.
func (r *Retry) Connected() { *r = Retry{} }

// AfterFailure returns how long a client waits after its latest attempt
// failed, the server having asked for retryAfter (0: nothing asked), and
// false when the client gives up instead (max_attempts failed in a row). It
// draws the backoff from rng.
func (rl *Rules) AfterFailure(r *Retry, retryAfter time.Duration, rng *rand.Rand) (time.Duration, bool) {
	if rl.MaxAttempts > 0 && r.attempts >= rl.MaxAttempts {
		return 0, false
	}
	r.prev = rl.Backoff.Delay(r.attempts+1, r.prev, rng)
	wait := r.prev
	if rl.RetryAfterCap > 0 {
		// A hostile or broken server must not silence the fleet.
		retryAfter = min(retryAfter, rl.RetryAfterCap)
	}
	if rl.HonorRetryAfter && retryAfter > wait {
		wait = retryAfter
	}
	return wait, true
}

// AfterClose returns how long a client waits before its first attempt after
// the server (or the network) closed its connection with code, and false
// when its policy says the session is over. It draws the backoff, then the
// first delay, from rng.
func (rl *Rules) AfterClose(r *Retry, code int, rng *rand.Rand) (time.Duration, bool) {
	if rl.Policy.OnClose(code) == Stop {
		return 0, false
	}
	return rl.firstWait(r, rng), true
}

// firstWait starts a new sequence of attempts in r and returns the wait
// before its first: the backoff, then the first delay, drawn from rng.
func (rl *Rules) firstWait(r *Retry, rng *rand.Rand) time.Duration {
	*r = Retry{prev: rl.Backoff.Delay(1, 0, rng)}
	return r.prev + backoff.FirstDelay(rl.FirstDelay, rng)
}

// AfterMessage returns how long a client waits before its first attempt
// after a server message sent it away: nothing when now, else as after a
// close that reconnects (the backoff, then the first delay, from rng).
func (rl *Rules) AfterMessage(r *Retry, now bool, rng *rand.Rand) time.Duration {
	if now {
		*r = Retry{}
		return 0
	}
	return rl.firstWait(r, rng)
}
