package report

import "math"

// ciede2000 is the CIEDE2000 colour difference of two CIELAB colours
// (Sharma, Wu and Dalal, 2005): about 1 is the smallest difference an eye
// sees side by side, and it weighs hue, chroma and lightness as eyes do,
// which a plain distance in Lab does not.
func ciede2000(c1, c2 [3]float64) float64 {
	l1, a1, b1 := c1[0], c1[1], c1[2]
	l2, a2, b2 := c2[0], c2[1], c2[2]
	pow7 := func(v float64) float64 { return v * v * v * v * v * v * v }
	cBar := (math.Hypot(a1, b1) + math.Hypot(a2, b2)) / 2
	g := 0.5 * (1 - math.Sqrt(pow7(cBar)/(pow7(cBar)+pow7(25))))
	a1p, a2p := (1+g)*a1, (1+g)*a2
	c1p, c2p := math.Hypot(a1p, b1), math.Hypot(a2p, b2)
	hue := func(b, a float64) float64 {
		if a == 0 && b == 0 {
			return 0
		}
		return math.Mod(math.Atan2(b, a)*180/math.Pi+360, 360)
	}
	h1p, h2p := hue(b1, a1p), hue(b2, a2p)

	dh := 0.0
	if c1p*c2p != 0 {
		dh = h2p - h1p
		if dh > 180 {
			dh -= 360
		} else if dh < -180 {
			dh += 360
		}
	}
	dL, dC := l2-l1, c2p-c1p
	dH := 2 * math.Sqrt(c1p*c2p) * math.Sin(dh*math.Pi/360)

	lBar, cBarP := (l1+l2)/2, (c1p+c2p)/2
	hBar := h1p + h2p
	if c1p*c2p != 0 {
		switch {
		case math.Abs(h1p-h2p) <= 180:
			hBar /= 2
		case hBar < 360:
			hBar = (hBar + 360) / 2
		default:
			hBar = (hBar - 360) / 2
		}
	}
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	t := 1 - 0.17*math.Cos(rad(hBar-30)) + 0.24*math.Cos(rad(2*hBar)) + 0.32*math.Cos(rad(3*hBar+6)) - 0.20*math.Cos(rad(4*hBar-63))
	dTheta := 30 * math.Exp(-((hBar-275)/25)*((hBar-275)/25))
	rc := 2 * math.Sqrt(pow7(cBarP)/(pow7(cBarP)+pow7(25)))
	sl := 1 + 0.015*(lBar-50)*(lBar-50)/math.Sqrt(20+(lBar-50)*(lBar-50))
	sc := 1 + 0.045*cBarP
	sh := 1 + 0.015*cBarP*t
	rt := -math.Sin(rad(2*dTheta)) * rc
	return math.Sqrt((dL/sl)*(dL/sl) + (dC/sc)*(dC/sc) + (dH/sh)*(dH/sh) + rt*(dC/sc)*(dH/sh))
}
