package fleet

import (
	"math"
	"testing"
)

// draws is how many values a statistical check takes from a stream.
const draws = 10_000

func TestClientRandStreamsDiffer(t *testing.T) {
	// Neighbouring clients and seeds must not share a stream.
	type stream struct {
		seed   uint64
		client int
	}
	seen := make(map[uint64]stream)
	for seed := range uint64(4) {
		for client := -2; client < 1000; client++ {
			v := ClientRand(seed, client).Uint64()
			if prior, ok := seen[v]; ok {
				t.Fatalf("seed %d client %d starts like %+v", seed, client, prior)
			}
			seen[v] = stream{seed, client}
		}
	}

	// Nor correlate: the Pearson correlation of two neighbours' draws is
	// near 0 (its standard error for n draws is 1/sqrt(n) = 0.01).
	pairs := [][2][2]uint64{
		{{1, 0}, {1, 1}},
		{{1, 1}, {1, 2}},
		{{1, 5}, {2, 5}},
		{{0, 0}, {1, 0}},
	}
	for _, p := range pairs {
		a, b := ClientRand(p[0][0], int(p[0][1])), ClientRand(p[1][0], int(p[1][1]))
		var sa, sb, saa, sbb, sab float64
		for range draws {
			x, y := a.Float64(), b.Float64()
			sa, sb, saa, sbb, sab = sa+x, sb+y, saa+x*x, sbb+y*y, sab+x*y
		}
		n := float64(draws)
		r := (n*sab - sa*sb) / math.Sqrt((n*saa-sa*sa)*(n*sbb-sb*sb))
		if math.Abs(r) > 0.05 {
			t.Errorf("(seed, client) %v and %v: correlation %.3f, want near 0", p[0], p[1], r)
		}
	}
}
