package backoff

import (
	"math/rand/v2"
	"time"
)

// Constant is the strategy that waits base before every attempt: clients
// closed together come back together, base later.
const Constant = "constant"

type constant struct{ delay time.Duration }

func (b constant) Delay(int, time.Duration, *rand.Rand) time.Duration { return b.delay }

func (b constant) problem() *Problem {
	if b.delay < 0 {
		return negative(Constant, "base", b.delay)
	}
	return nil
}

func (b constant) firstBound() Bound { return Bound{Delay: b.delay, Of: "base"} }
