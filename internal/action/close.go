package action

import "context"

// closeAction closes a share of all the connected clients with a code
// (1000, Normal Closure, by default), as a server ends sessions.
type closeAction struct{}

// CloseParams are the keys of a close step.
type CloseParams struct {
	Fraction float64 `toml:"fraction"` // share of the connected clients to close, in (0, 1]
	Code     int     `toml:"code"`
	Reason   string  `toml:"reason"`
}

func (closeAction) Name() string { return "close" }

func (closeAction) Params() Params { return &CloseParams{Fraction: 1, Code: 1000} }

func (closeAction) Check(s Step, c Checker) {
	p := s.Params.(*CloseParams)
	if c.Profile().External {
		c.Bad("action", `"close" needs wsstorm between the clients and the server: use mode = "embedded" or "proxy", or a restart step with a hook`)
	}
	if !(p.Fraction > 0 && p.Fraction <= 1) {
		c.Bad("fraction", "%v is out of range: use the share of connected clients to close, above 0 and at most 1, e.g. 0.1", p.Fraction)
	}
	checkCode(c, p.Code)
	checkReason(c, p.Reason)
}

func (closeAction) Plan(s Step, env Env) []Event {
	p := *s.Params.(*CloseParams)
	return []Event{{Step: env.Step, Action: s.Action, At: s.At, Node: -1, Code: p.Code, Seed: env.Seed, Params: &p}}
}

// closePick is what a close event ends, and how.
func closePick(ev Event) (Pick, Ending, error) {
	p, err := params[CloseParams](ev)
	if err != nil {
		return Pick{}, Ending{}, err
	}
	e, err := Ending{Code: p.Code, Reason: p.Reason}.Check(1000)
	return Pick{Node: -1, Fraction: p.Fraction, Seed: ev.Seed}, e, err
}

func (closeAction) Run(ctx context.Context, t Target, ev Event) (Effect, error) {
	ender, err := capability[Ender](t, "close connections")
	if err != nil {
		return Effect{}, err
	}
	pick, e, err := closePick(ev)
	switch {
	case err != nil:
		return Effect{}, err
	case pick.Fraction == 0:
		return Effect{}, nil // a share of nothing (Fraction 0 would pick all)
	}
	n, err := ender.End(ctx, pick, e, 0)
	return Effect{Closed: n}, err
}

func (closeAction) Simulate(sim Sim, ev Event) error {
	pick, e, err := closePick(ev)
	if err != nil || pick.Fraction == 0 {
		return err
	}
	sim.End(pick, e, 0)
	return nil
}

// CloseShare closes a share of t's connections as a close step seeded with
// seed does, and returns how many the target ended.
func CloseShare(ctx context.Context, t Target, p CloseParams, seed uint64) (closed int, err error) {
	eff, err := Carry(ctx, t, Event{Action: closeAction{}.Name(), Node: -1, Code: p.Code, Seed: seed, Params: &p})
	return eff.Closed, err
}
