package fleet

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// Backoff maps a reconnect attempt to the delay before it. Implementations are
// pure: the same inputs and rng state give the same delay, so a run replays
// from its seed.
type Backoff interface {
	// Delay returns the wait before attempt (1 = the first attempt after a
	// close or a failure). prev is the delay Delay returned for the previous
	// attempt, 0 before the first. The result is never negative.
	Delay(attempt int, prev time.Duration, rng *rand.Rand) time.Duration
}

// Reconnect strategies, as a profile names them in fleet.reconnect.strategy.
const (
	strategyNone               = "none"
	strategyConstant           = "constant"
	strategyWindow             = "window"
	strategyExponential        = "exponential"
	strategyFullJitter         = "full_jitter"
	strategyEqualJitter        = "equal_jitter"
	strategyDecorrelatedJitter = "decorrelated_jitter"
)

// Strategies returns the names NewBackoff accepts, in a fixed order.
func Strategies() []string {
	return []string{
		strategyNone,
		strategyConstant,
		strategyWindow,
		strategyExponential,
		strategyFullJitter,
		strategyEqualJitter,
		strategyDecorrelatedJitter,
	}
}

// NewBackoff returns the Backoff r.Strategy names, configured from r. It
// returns an error for an unknown strategy or for durations the strategy
// cannot use (negative, min above max, cap below base).
func NewBackoff(r profile.Reconnect) (Backoff, error) {
	switch r.Strategy {
	case strategyNone:
		return noBackoff{}, nil
	case strategyConstant:
		return newConstantBackoff(r)
	case strategyWindow:
		return newWindowBackoff(r)
	case strategyExponential:
		return newExponentialBackoff(r)
	case strategyFullJitter:
		return newFullJitter(r)
	case strategyEqualJitter:
		return newEqualJitter(r)
	case strategyDecorrelatedJitter:
		return newDecorrelatedJitter(r)
	}
	return nil, fmt.Errorf("reconnect strategy %q is unknown: want one of %s",
		r.Strategy, strings.Join(Strategies(), ", "))
}

// ClientRand returns the random stream of one client of a run. The same seed
// and client always give the same stream; different clients of one seed get
// uncorrelated streams.
func ClientRand(seed uint64, client int) *rand.Rand {
	// PCG states that differ by a small amount share structure; splitmix64
	// spreads (seed, client) over the whole 128-bit state first. mix64 is a
	// bijection, so the clients of one seed never share a state.
	hi := mix64(seed ^ mix64(uint64(client)))
	return rand.New(rand.NewPCG(hi, mix64(hi)))
}

// mix64 is the splitmix64 finalizer (Steele, Lea, Flood 2014).
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// FirstDelay returns the extra random delay before the first reconnect
// attempt after a close, uniform in [0, maxDelay], so that clients closed
// together do not dial together (RFC 6455 §7.2.3). It is 0 when maxDelay <= 0.
func FirstDelay(maxDelay time.Duration, rng *rand.Rand) time.Duration {
	if maxDelay <= 0 {
		return 0
	}
	return uniform(rng, 0, maxDelay)
}

// uniform returns a duration uniform in [lo, hi], both ends included, drawn in
// whole nanoseconds; lo when hi <= lo. It expects 0 <= lo.
func uniform(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	// hi-lo+1 is at most 2^63, which fits a uint64 but not an int64.
	return lo + time.Duration(rng.Uint64N(uint64(hi-lo)+1))
}

// exponentialStep returns min(limit, base·2^(attempt-1)), with attempts below
// 1 counted as 1. It compares against limit>>n before shifting, so a large
// attempt saturates at limit instead of overflowing. It expects
// 0 <= base <= limit.
func exponentialStep(base, limit time.Duration, attempt int) time.Duration {
	n := max(attempt-1, 0)
	if n >= 63 || base > limit>>n {
		return limit
	}
	return base << n
}

// exponentialParams checks the base and cap that the exponential strategies
// share: 0 < base <= cap.
func exponentialParams(r profile.Reconnect) (base, limit time.Duration, err error) {
	base, limit = r.Base.D(), r.Cap.D()
	if base <= 0 {
		return 0, 0, fmt.Errorf("reconnect strategy %s: base is %v, want more than 0", r.Strategy, base)
	}
	if limit < base {
		return 0, 0, fmt.Errorf("reconnect strategy %s: cap %v is below base %v", r.Strategy, limit, base)
	}
	return base, limit, nil
}
