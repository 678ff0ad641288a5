package backoff

import (
	"math/rand/v2"
	"time"
)

// None is the strategy that reconnects at once, every time: the worst case
// for a herd.
const None = "none"

type none struct{}

func (none) Delay(int, time.Duration, *rand.Rand) time.Duration { return 0 }

func (none) problem() *Problem { return nil }

func (none) firstBound() Bound { return Bound{} }
