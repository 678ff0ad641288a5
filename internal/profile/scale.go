package profile

import (
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/profiles"
)

// QuickDuration is how long a --quick run lasts.
const QuickDuration = 20 * time.Second

// ScaleFile is the File of an Error in the scale itself.
const ScaleFile = "--scale"

// Scale stretches or shrinks a profile's timeline (--scale, --quick): the
// run's duration, the fleet's ramp and every chaos step's times. The
// clients' own times (reconnect delays, timeouts, session intervals) stay
// as they are: they are what a run measures.
type Scale struct {
	// Factor multiplies the timeline, exactly ("0.5", "4/9"); "": as written.
	Factor string
	// To, if above 0, is the duration the run is scaled to instead: the
	// factor is To over the duration the file and the overrides give.
	To time.Duration
}

// LoadScaled is Load with the timeline scaled by sc after the --set
// overrides. A scaled profile records its factor in Scale (and ScaleExact),
// so that results tell a scaled run from a full one.
func LoadScaled(path string, sets []string, sc Scale) (*Profile, error) {
	if path == "" {
		return ParseScaled(profiles.Default, BuiltinPath, sets, sc)
	}
	data, err := readProfile(path)
	if err != nil {
		return nil, readError(path, err)
	}
	return ParseScaled(data, path, sets, sc)
}

// ParseScaled is Parse with the timeline scaled by sc after the --set
// overrides.
func ParseScaled(data []byte, path string, sets []string, sc Scale) (*Profile, error) {
	return parseScaled(data, path, sets, sc, osEnvironment())
}

// ScaleValue is the number an exact scale ("4/9") stands for; 0 for "".
func ScaleValue(exact string) float64 {
	f, ok := new(big.Rat).SetString(exact)
	if !ok {
		return 0
	}
	v, _ := f.Float64()
	return v
}

// factor is the factor sc multiplies a run of duration d by, exactly:
// nil for none (or one the checks refuse).
func (sc Scale) factor(d time.Duration) *big.Rat {
	switch {
	case sc.To > 0 && d > 0:
		return big.NewRat(int64(sc.To), int64(d))
	case sc.To > 0:
		return nil // the duration's own check says what is wrong with it
	case sc.Factor != "":
		if f, ok := new(big.Rat).SetString(sc.Factor); ok && f.Sign() > 0 {
			return f
		}
	}
	return nil
}

// check returns the Error of a factor that cannot scale a timeline.
func (sc Scale) check() *Error {
	if sc.To > 0 || sc.Factor == "" {
		return nil
	}
	if f, ok := new(big.Rat).SetString(sc.Factor); !ok || f.Sign() <= 0 {
		return &Error{File: ScaleFile, Msg: fmt.Sprintf("%q is not a factor: use a number above 0, e.g. 0.5 for a run half as long", sc.Factor)}
	}
	return nil
}

// scale multiplies p's timeline by sc's factor, records it, and marks the
// keys it changed, so that their errors say they were scaled.
func (d *decoder) scale(p *Profile, sc Scale) {
	f := sc.factor(p.Duration.D())
	if f == nil || f.Cmp(big.NewRat(1, 1)) == 0 {
		return
	}
	by := func(t time.Duration) time.Duration { return scaleDuration(t, f) }
	p.Scale, _ = f.Float64()
	p.ScaleExact = f.RatString()
	d.scaleNote = fmt.Sprintf(" (the timeline is scaled by %.4g: --scale or --quick)", p.Scale)
	d.scaled = map[string]bool{"duration": true, "fleet.ramp": true}
	p.Duration = Dur(by(p.Duration.D()))
	p.Fleet.Ramp = Dur(by(p.Fleet.Ramp.D()))
	for i := range p.Chaos {
		d.scaled[keyString(stepKey(i))] = true
		for _, k := range action.ScaleTimes(&p.Chaos[i], by) {
			d.scaled[keyString(stepKey(i, k))] = true
		}
	}
}

// scaleDuration is t times f, rounded down to the millisecond: scaled
// times read as a person would write them ("4.444s", not "4.444444444s").
// Down, in exact arithmetic and on one grid for every time, so that times
// that met before still meet or leave a gap (⌊a⌋ + ⌊b⌋ ≤ ⌊a + b⌋): a step
// that ended when the next began must not overlap it after scaling, and
// --quick's duration is exactly 20 s.
func scaleDuration(t time.Duration, f *big.Rat) time.Duration {
	x := new(big.Rat).Mul(new(big.Rat).SetInt64(int64(t)), f)
	q := new(big.Int).Div(x.Num(), x.Denom()) // Euclidean: the floor, as the denominator is positive
	if !q.IsInt64() || q.Int64() > math.MaxInt64/2 {
		return time.Duration(math.MaxInt64 / 2) // far out of range: the checks say so
	}
	return time.Duration(q.Int64()).Truncate(time.Millisecond)
}
