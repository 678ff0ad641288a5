package fleet

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// windowBackoff waits a delay uniform in [lo, hi] before every attempt,
// whatever the attempt number.
type windowBackoff struct{ lo, hi time.Duration }

func newWindowBackoff(r profile.Reconnect) (Backoff, error) {
	lo, hi := r.Min.D(), r.Max.D()
	if lo < 0 {
		return nil, fmt.Errorf("reconnect strategy window: min is %v, want 0 or more", lo)
	}
	if hi < lo {
		return nil, fmt.Errorf("reconnect strategy window: max %v is below min %v", hi, lo)
	}
	return windowBackoff{lo: lo, hi: hi}, nil
}

func (b windowBackoff) Delay(_ int, _ time.Duration, rng *rand.Rand) time.Duration {
	return uniform(rng, b.lo, b.hi)
}
