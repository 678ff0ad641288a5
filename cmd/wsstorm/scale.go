package main

import (
	"flag"
	"fmt"
	"io"
	"math/big"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// scaleFlags are --scale and --quick, which run, simulate, sweep and
// validate share: they stretch or shrink a profile's timeline.
type scaleFlags struct {
	factor string
	quick  bool
}

// register defines the flags on fs.
func (sf *scaleFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.factor, "scale", "", "multiply the profile's timeline (duration, ramp, every chaos step's times) by `F`; the clients' reconnect delays, timeouts and session intervals stay as they are")
	fs.BoolVar(&sf.quick, "quick", false, fmt.Sprintf("scale the timeline so the run lasts %v (--scale %v/duration)", profile.QuickDuration, profile.QuickDuration))
}

// scale is the profile.Scale the flags ask for, or a usage error.
func (sf *scaleFlags) scale(cmd string) (profile.Scale, error) {
	if sf.quick && sf.factor != "" {
		return profile.Scale{}, usagef("wsstorm %s: --quick is a scale of its own: give --scale or --quick, not both", cmd)
	}
	if sf.quick {
		return profile.Scale{To: profile.QuickDuration}, nil
	}
	if f, ok := new(big.Rat).SetString(sf.factor); sf.factor != "" && (!ok || f.Sign() <= 0) {
		return profile.Scale{}, usagef("wsstorm %s: --scale %q: give a factor above 0, e.g. 0.5 for a run half as long, or --quick", cmd, sf.factor)
	}
	return profile.Scale{Factor: sf.factor}, nil
}

// loadScaled loads the profile at path ("": the built-in default) with the
// --set overrides sets and the timeline scaled by sc; its error lists every
// problem. warn, if not nil, receives the profile's warnings, one a line.
func loadScaled(path string, sets []string, sc profile.Scale, warn io.Writer) (*profile.Profile, error) {
	p, err := profile.LoadScaled(path, sets, sc)
	if err != nil {
		return nil, profileError("", err)
	}
	if warn != nil {
		for _, w := range p.Warnings {
			fmt.Fprintf(warn, "wsstorm: warning: %v\n", w)
		}
	}
	return p, nil
}
