package fleet

import (
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// exponentialBackoff waits min(cap, base·2^(attempt-1)): base, 2·base,
// 4·base, ... up to cap, with no jitter, so clients closed together stay in
// lockstep.
type exponentialBackoff struct{ base, limit time.Duration }

func newExponentialBackoff(r profile.Reconnect) (Backoff, error) {
	base, limit, err := exponentialParams(r)
	if err != nil {
		return nil, err
	}
	return exponentialBackoff{base: base, limit: limit}, nil
}

func (b exponentialBackoff) Delay(attempt int, _ time.Duration, _ *rand.Rand) time.Duration {
	return exponentialStep(b.base, b.limit, attempt)
}
