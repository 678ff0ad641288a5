package report

import (
	"fmt"
	"math"
)

// maxLabL is the lightest a series colour may be (CIELAB L*), so that a
// thin line still reads on the page's white.
const maxLabL = 65

// distinctColors returns n colours for series that come in numbers (a
// target's nodes, up to 64; chaos events), each as far as it can be, by
// CIEDE2000, from the ones before it and from the connected clients' blue,
// which they are drawn beside. It picks farthest-first from a grid of
// hues, lightnesses and saturations, so the first colours differ the most
// and colour i does not depend on n. Past the grid's size the colours
// repeat.
func distinctColors(n int) []string {
	type candidate struct {
		hex string
		lab [3]float64
	}
	var grid []candidate
	for h := 0; h < 360; h += 10 {
		for _, l := range []float64{0.25, 0.32, 0.39, 0.46, 0.53, 0.60} {
			for _, s := range []float64{0.55, 0.8} {
				r, g, b := hslToRGB(float64(h), s, l)
				if lab := rgbToLab(r, g, b); lab[0] <= maxLabL {
					grid = append(grid, candidate{fmt.Sprintf("#%02x%02x%02x", r, g, b), lab})
				}
			}
		}
	}
	// far[i]: how far grid[i] is from the nearest colour taken so far.
	seed := labOfHex(colorConnected)
	far := make([]float64, len(grid))
	for i, c := range grid {
		far[i] = ciede2000(c.lab, seed)
	}
	out := make([]string, 0, n)
	for len(out) < min(n, len(grid)) {
		best := 0
		for i := range far {
			if far[i] > far[best] {
				best = i
			}
		}
		out = append(out, grid[best].hex)
		for i, c := range grid {
			far[i] = min(far[i], ciede2000(c.lab, grid[best].lab))
		}
	}
	for len(out) < n {
		out = append(out, out[len(out)%len(grid)])
	}
	return out
}

// hslToRGB converts a hue in degrees, a saturation and a lightness in
// [0, 1] to 8-bit sRGB.
func hslToRGB(h, s, l float64) (r, g, b uint8) {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	var r1, g1, b1 float64
	switch {
	case h < 60:
		r1, g1 = c, x
	case h < 120:
		r1, g1 = x, c
	case h < 180:
		g1, b1 = c, x
	case h < 240:
		g1, b1 = x, c
	case h < 300:
		r1, b1 = x, c
	default:
		r1, b1 = c, x
	}
	m := l - c/2
	to8 := func(v float64) uint8 { return uint8(math.Round((v + m) * 255)) }
	return to8(r1), to8(g1), to8(b1)
}

// labOfHex is rgbToLab of a "#rrggbb" colour.
func labOfHex(hex string) [3]float64 {
	var r, g, b uint8
	fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b)
	return rgbToLab(r, g, b)
}

// rgbToLab converts 8-bit sRGB to CIELAB under D65.
func rgbToLab(r, g, b uint8) [3]float64 {
	lin := func(v uint8) float64 {
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	R, G, B := lin(r), lin(g), lin(b)
	x := (0.4124*R + 0.3576*G + 0.1805*B) / 0.95047
	y := 0.2126*R + 0.7152*G + 0.0722*B
	z := (0.0193*R + 0.1192*G + 0.9505*B) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(x), f(y), f(z)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}
