package fleet

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// constantBackoff waits base before every attempt: clients closed together
// come back together, base later.
type constantBackoff struct{ base time.Duration }

func newConstantBackoff(r profile.Reconnect) (Backoff, error) {
	if r.Base.D() < 0 {
		return nil, fmt.Errorf("reconnect strategy constant: base is %v, want 0 or more", r.Base.D())
	}
	return constantBackoff{base: r.Base.D()}, nil
}

func (b constantBackoff) Delay(int, time.Duration, *rand.Rand) time.Duration { return b.base }
