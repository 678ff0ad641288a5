package fleet

import (
	"math/rand/v2"

	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// NewBackoff returns the backoff of the strategy r names, configured from r
// (see package backoff). It returns an error for an unknown strategy or for
// durations the strategy cannot use (negative, min above max, cap below
// base).
func NewBackoff(r profile.Reconnect) (backoff.Backoff, error) {
	return backoff.New(r.Strategy, r.BackoffParams())
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
