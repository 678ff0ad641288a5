package fleet

import (
	"math/rand/v2"
	"time"
)

// noBackoff reconnects at once, every time: the worst case for a herd.
type noBackoff struct{}

func (noBackoff) Delay(int, time.Duration, *rand.Rand) time.Duration { return 0 }
