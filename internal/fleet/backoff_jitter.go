package fleet

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// The jittered strategies follow Marc Brooker, "Exponential Backoff and
// Jitter" (AWS Architecture Blog, 2015). The blog's attempt counts from 0;
// ours counts from 1, so its base·2^attempt is our base·2^(attempt-1) and the
// first attempt draws against base. U(a, b) is a uniform draw in whole
// nanoseconds with both ends included.

// fullJitter waits U(0, t), t = min(cap, base·2^(attempt-1)): the mean is t/2.
type fullJitter struct{ base, limit time.Duration }

func newFullJitter(r profile.Reconnect) (Backoff, error) {
	base, limit, err := exponentialParams(r)
	if err != nil {
		return nil, err
	}
	return fullJitter{base: base, limit: limit}, nil
}

func (b fullJitter) Delay(attempt int, _ time.Duration, rng *rand.Rand) time.Duration {
	return uniform(rng, 0, exponentialStep(b.base, b.limit, attempt))
}

// equalJitter waits t/2 + U(0, t/2), t = min(cap, base·2^(attempt-1)): never
// less than half the exponential step, the mean is 3t/4. For an odd t in
// nanoseconds the fixed half is rounded up, so the delay never exceeds t.
type equalJitter struct{ base, limit time.Duration }

func newEqualJitter(r profile.Reconnect) (Backoff, error) {
	base, limit, err := exponentialParams(r)
	if err != nil {
		return nil, err
	}
	return equalJitter{base: base, limit: limit}, nil
}

func (b equalJitter) Delay(attempt int, _ time.Duration, rng *rand.Rand) time.Duration {
	t := exponentialStep(b.base, b.limit, attempt)
	half := t / 2
	return t - half + uniform(rng, 0, half)
}

// decorrelatedJitter waits min(cap, U(base, 3·sleep)), where sleep is the
// previous delay and is base before the first attempt: the blog's
// sleep = min(cap, random_between(base, sleep * 3)) with sleep starting at
// base. The next delay depends on the previous one, not on the attempt
// number; the cap applies after the draw, so draws above it land on cap
// exactly. A prev below base (0 before the first attempt), or any prev at
// attempt 1, counts as base.
type decorrelatedJitter struct{ base, limit time.Duration }

func newDecorrelatedJitter(r profile.Reconnect) (Backoff, error) {
	base, limit, err := exponentialParams(r)
	if err != nil {
		return nil, err
	}
	return decorrelatedJitter{base: base, limit: limit}, nil
}

func (b decorrelatedJitter) Delay(attempt int, prev time.Duration, rng *rand.Rand) time.Duration {
	last := prev // the blog's sleep
	if attempt <= 1 || last < b.base {
		last = b.base
	}
	// 3·last saturates at MaxInt64 (292 years) instead of overflowing; only
	// a prev above 97 years sees the difference.
	hi := time.Duration(math.MaxInt64)
	if last <= math.MaxInt64/3 {
		hi = 3 * last
	}
	return min(b.limit, uniform(rng, b.base, hi))
}
