package fleet

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// Rules decide whether and when a client dials again: after a close, by its
// code, and after a failed attempt, by the backoff and the server's
// Retry-After, or by a client library's own loop (Client). The fleet's
// clients and wsstorm simulate's both follow them, drawing from the same
// per-client random stream (ClientRand) in the same order, with times on
// the same clock (offsets from the run's start), so a simulated client
// waits exactly what a real one would.
type Rules struct {
	Backoff         backoff.Backoff
	Policy          *Policy
	FirstDelay      time.Duration // upper bound of a random extra wait before the first reconnect attempt
	MaxAttempts     int           // failed attempts in a row before giving up; 0: never
	HonorRetryAfter bool          // wait at least a 503's Retry-After, up to RetryAfterCap
	RetryAfterCap   time.Duration // longest Retry-After honoured (0: no limit)
	// Client is the client-library preset (fleet.client) whose loop
	// decides in place of the backoff, the first delay, max_attempts,
	// Retry-After (no library honours it) and the close codes' meanings,
	// the default policy's and the protocol preset's alike; only on_close
	// entries layer over it (see AfterClose). nil: the generic rules.
	Client clientlib.Preset
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
	if p.Fleet.Client != "" && p.Fleet.ClientOptions.Preset == nil {
		return Rules{}, fmt.Errorf("fleet.client %q is not built: validate the profile first", p.Fleet.Client)
	}
	return Rules{
		Backoff:         b,
		Policy:          pol,
		FirstDelay:      r.FirstDelay.D(),
		MaxAttempts:     r.MaxAttempts,
		HonorRetryAfter: r.HonorRetryAfter,
		RetryAfterCap:   cmp.Or(r.Cap.D(), defaultRetryAfterCap),
		Client:          p.Fleet.ClientOptions.Preset,
	}, nil
}

// Retry is a client's place in a sequence of connect attempts: from a close
// (or its start) to its next successful handshake, and with a client
// preset the library's own state, which lives as long as the client. The
// zero Retry is a client without a preset that has made no attempt yet;
// Rules.NewRetry makes one for any rules.
type Retry struct {
	attempts int              // attempts in the current sequence
	prev     time.Duration    // the backoff delay before the latest attempt
	lib      clientlib.Client // the library's loop; nil: the generic rules
}

// NewRetry returns the Retry of a client at its start, and again after a
// session the client ended itself (fleet.session.lifetime): the user who
// ends a session and comes back after the pause opens a new page or
// process, a new app to the library, so nothing of the ended connection
// (an open connection's state, an attempt count) carries over. With a
// client preset it starts the library's loop, which may draw from rng
// what the library draws once per process: call it before anything else
// draws from the client's stream, at its start and when its session ends.
func (rl *Rules) NewRetry(rng *rand.Rand) Retry {
	if rl.Client == nil {
		return Retry{}
	}
	return Retry{lib: rl.Client.NewClient(rng)}
}

// Attempt counts a connect attempt about to start at at (an offset from
// the run's start).
func (r *Retry) Attempt(at time.Duration) {
	r.attempts++
	if r.lib != nil {
		r.lib.Attempt(at)
	}
}

// Connected ends the sequence: the attempt succeeded at at.
func (r *Retry) Connected(at time.Duration) {
	*r = Retry{lib: r.lib}
	if r.lib != nil {
		r.lib.Opened(at)
	}
}

// Upgraded ends the sequence of an attempt whose WebSocket opened at at
// but whose protocol's opening exchange did not complete: the server or
// the network closed the connection before the session script's awaited
// reply. The generic rules count it as connected, as Connected does. A
// library is not told it opened: it counts a connection from its
// protocol's reply (graphql-ws's connection_ack, centrifuge's connect
// reply, ActionCable's welcome), so its Closed follows its Attempt.
func (r *Retry) Upgraded(at time.Duration) {
	if r.lib == nil {
		r.Connected(at)
		return
	}
	*r = Retry{lib: r.lib}
}

// Decision is what a client does after a close or a failed attempt.
type Decision struct {
	Wait time.Duration // before the next attempt, from the close or failure
	Stop bool          // it makes none: its session is over, or it gave up
	// GaveUp says it stopped after too many failed attempts (max_attempts,
	// or the library's own limits).
	GaveUp bool
	// Reason says why it stopped when a preset decided it: the protocol's
	// meaning of a close code, or the client library's; "" when it did
	// not stop, or on_close decided it.
	Reason string
}

// decision is the Decision of a library's Next.
func decision(n clientlib.Next) Decision {
	return Decision{Wait: n.Wait, Stop: n.Stop, GaveUp: n.GaveUp, Reason: n.Reason}
}

// AfterFailure decides what a client does after its latest attempt failed
// at at: status is the HTTP status the server refused the upgrade with (0:
// none), retryAfter what its Retry-After asked for (0: nothing). Without a
// client preset it waits the backoff, drawn from rng, or Retry-After when
// honoured and longer, and gives up after max_attempts failed in a row.
func (rl *Rules) AfterFailure(r *Retry, at time.Duration, status int, retryAfter time.Duration, rng *rand.Rand) Decision {
	if r.lib != nil {
		return decision(r.lib.Failed(at, status, rng))
	}
	if rl.MaxAttempts > 0 && r.attempts >= rl.MaxAttempts {
		return Decision{Stop: true, GaveUp: true}
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
	return Decision{Wait: wait}
}

// AfterClose decides what a client does after the server (or the network)
// closed its connection with code at at. Without a client preset, its
// policy decides, and it waits the backoff, then the first delay, drawn
// from rng. With one, an on_close entry for code layers over the library:
// "stop" stops; "reconnect" reconnects after the library's wait for the
// close or, when the library would stop on it, the wait it takes to come
// back when sent away (Client.Away). Other codes are the library's.
func (rl *Rules) AfterClose(r *Retry, at time.Duration, code int, rng *rand.Rand) Decision {
	if r.lib != nil {
		user, given := rl.Policy.User(code)
		if given && user == Stop {
			return Decision{Stop: true}
		}
		n := r.lib.Closed(at, code, rng)
		if n.Stop && given {
			n = r.lib.Away(at, false, rng)
		}
		return decision(n)
	}
	if rl.Policy.OnClose(code) == Stop {
		return Decision{Stop: true, Reason: rl.Policy.StopReason(code)}
	}
	return Decision{Wait: rl.firstWait(r, rng)}
}

// firstWait starts a new sequence of attempts in r and returns the wait
// before its first: the backoff, then the first delay, drawn from rng.
func (rl *Rules) firstWait(r *Retry, rng *rand.Rand) time.Duration {
	*r = Retry{prev: rl.Backoff.Delay(1, 0, rng), lib: r.lib}
	return r.prev + backoff.FirstDelay(rl.FirstDelay, rng)
}

// AfterMessage returns how long a client waits before its first attempt
// after a server message sent it away at at (the protocol's rules decided
// it comes back): with a client preset, the library's wait; else nothing
// when now, and otherwise as after a close that reconnects (the backoff,
// then the first delay, from rng).
func (rl *Rules) AfterMessage(r *Retry, at time.Duration, now bool, rng *rand.Rand) time.Duration {
	if r.lib != nil {
		return r.lib.Away(at, now, rng).Wait
	}
	if now {
		*r = Retry{}
		return 0
	}
	return rl.firstWait(r, rng)
}

// ReconnectsAfter says whether the rules bring a client back after a close
// with code, for the events' reconnect_expected: the policy's word, or a
// client preset's for a client fresh from its first connection (on_close
// entries over it). A library's answer may depend on its state (live
// subscriptions, its attempt count); this is its answer at the start.
func (rl *Rules) ReconnectsAfter(code int) bool {
	if rl.Client == nil {
		return rl.Policy.OnClose(code) == Reconnect
	}
	if a, ok := rl.Policy.User(code); ok {
		return a == Reconnect
	}
	rng := rand.New(rand.NewPCG(0, 0)) // a throwaway stream: no client's
	c := rl.Client.NewClient(rng)
	c.Attempt(0)
	c.Opened(0)
	return !c.Closed(0, code, rng).Stop
}
