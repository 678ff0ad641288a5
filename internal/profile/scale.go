package profile

import (
	"fmt"
	"math"
	"strconv"
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
	// Factor multiplies the timeline; 0: as written.
	Factor float64
	// To, if above 0, is the duration the run is scaled to instead: the
	// factor is To over the duration the file and the overrides give.
	To time.Duration
}

// LoadScaled is Load with the timeline scaled by sc after the --set
// overrides. A scaled profile records its factor in Scale and as a last
// override, "--scale=F", so that results tell a scaled run from a full one.
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

// factor is the factor sc multiplies a run of duration d by: 1 for none.
func (sc Scale) factor(d time.Duration) float64 {
	switch {
	case sc.To > 0 && d > 0:
		return float64(sc.To) / float64(d)
	case sc.To > 0:
		return 1 // the duration's own check says what is wrong with it
	case sc.Factor != 0:
		return sc.Factor
	}
	return 1
}

// check returns the Error of a factor that cannot scale a timeline.
func (sc Scale) check() *Error {
	if f := sc.Factor; sc.To <= 0 && f != 0 && !(f > 0 && !math.IsInf(f, 0)) {
		return &Error{File: ScaleFile, Msg: fmt.Sprintf("%v is not a factor: use a number above 0, e.g. 0.5 for a run half as long", f)}
	}
	return nil
}

// scale multiplies p's timeline by sc's factor, records it, and marks the
// keys it changed, so that their errors say they were scaled.
func (d *decoder) scale(p *Profile, sc Scale) {
	f := sc.factor(p.Duration.D())
	if f == 1 {
		return
	}
	by := func(t time.Duration) time.Duration { return scaleDuration(t, f) }
	p.Scale = f
	p.Overrides = append(p.Overrides, ScaleFile+"="+strconv.FormatFloat(f, 'g', -1, 64))
	d.scaleNote = fmt.Sprintf(" (the timeline is scaled by %.4g: --scale or --quick)", f)
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

// scaleDuration is t times f, to the millisecond when it is one or more:
// scaled times read as a person would write them ("4.444s", not
// "4.444444444s"), in messages and in profile.toml.
func scaleDuration(t time.Duration, f float64) time.Duration {
	x := math.Round(float64(t) * f)
	if math.Abs(x) >= math.MaxInt64/2 {
		return time.Duration(math.Copysign(math.MaxInt64/2, x)) // far out of range: the checks say so
	}
	s := time.Duration(x)
	if s >= time.Millisecond || s <= -time.Millisecond {
		s = s.Round(time.Millisecond)
	}
	return s
}
