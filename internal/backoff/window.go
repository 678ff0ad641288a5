package backoff

import (
	"math/rand/v2"
	"time"
)

// Window is the strategy that waits a delay uniform in [min, max] before
// every attempt, whatever the attempt number.
const Window = "window"

type window struct{ lo, hi time.Duration }

func (b window) Delay(_ int, _ time.Duration, rng *rand.Rand) time.Duration {
	return uniform(rng, b.lo, b.hi)
}

func (b window) problem() *Problem {
	switch {
	case b.lo < 0:
		return negative(Window, "min", b.lo)
	case b.hi < b.lo:
		return below(Window, "max", b.hi, "min", b.lo, "a window needs min ≤ max")
	}
	return nil
}

func (b window) firstBound() Bound { return Bound{Delay: b.hi, Of: "max"} }
