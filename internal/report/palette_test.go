package report

import (
	"math"
	"testing"
)

// TestCIEDE2000 checks the colour difference against pairs of the test data
// Sharma, Wu and Dalal publish with the formula (their pairs 1, 7, 13, 17,
// 25 and 34), which cover its corners: hue on either side of 0°, neutral
// greys, and the blue region's rotation term.
func TestCIEDE2000(t *testing.T) {
	for _, tc := range []struct {
		a, b [3]float64
		want float64
	}{
		{[3]float64{50, 2.6772, -79.7751}, [3]float64{50, 0, -82.7485}, 2.0425},
		{[3]float64{50, 0, 0}, [3]float64{50, -1, 2}, 2.3669},
		{[3]float64{50, 2.5, 0}, [3]float64{56, -27, -3}, 31.9030},
		{[3]float64{50, 2.5, 0}, [3]float64{73, 25, -18}, 27.1492},
		{[3]float64{60.2574, -34.0099, 36.2677}, [3]float64{60.4626, -34.1751, 39.4387}, 1.2644},
		{[3]float64{2.0776, 0.0795, -1.1350}, [3]float64{0.9033, -0.0636, -0.5514}, 0.9082},
	} {
		if got := ciede2000(tc.a, tc.b); math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("ΔE00(%v, %v) = %.4f, want %.4f", tc.a, tc.b, got, tc.want)
		}
		if got := ciede2000(tc.b, tc.a); math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("ΔE00(%v, %v) = %.4f, want %.4f (the same both ways)", tc.b, tc.a, got, tc.want)
		}
	}
}

// minColorDistance is the least CIEDE2000 difference between any two node
// colours: well past the 2 or 3 at which two colours side by side look
// alike.
const minColorDistance = 7

// TestDistinctColors: the 64 nodes a target may have get 64 colours that a
// reader tells apart, from one another and from the connected clients'
// blue beside them, each dark enough for a thin line on white; node i's
// colour is the same whatever the number of nodes.
func TestDistinctColors(t *testing.T) {
	colors := distinctColors(64)
	if len(colors) != 64 {
		t.Fatalf("%d colours, want 64", len(colors))
	}
	all := append([]string{colorConnected}, colors...)
	for i := range all {
		li := labOfHex(all[i])
		if i > 0 && li[0] > maxLabL {
			t.Errorf("%s has lightness L* %.0f: too light on white", all[i], li[0])
		}
		for j := i + 1; j < len(all); j++ {
			if d := ciede2000(li, labOfHex(all[j])); d < minColorDistance {
				t.Errorf("%s and %s differ by ΔE00 %.1f, want at least %d", all[i], all[j], d, minColorDistance)
			}
		}
	}
	for n, few := range map[int][]string{3: distinctColors(3), 9: distinctColors(9)} {
		for i, c := range few {
			if c != colors[i] {
				t.Errorf("with %d nodes, node %d is %s; with 64, %s", n, i, c, colors[i])
			}
		}
	}
}
