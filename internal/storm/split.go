package storm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/profile"
)

// Split is the share of one run a process carries, as `wsstorm run` gives
// it: the whole fleet; --processes N segment processes on this machine,
// which it supervises (internal/supervise); or one segment of a fleet
// spread over processes or machines (--segment I/N), run with the others
// on one timeline.
type Split struct {
	Processes         int
	Segment, Segments int // Segments 0: the whole fleet
	StartAt           time.Time
	Chaos             string   // "on", "off", or "" (on for segment 0 alone)
	TargetAdmin       []string // the admin URLs of the embedded target's wsstorm serve processes
}

// maxProcesses bounds --processes: each is a whole runtime.
const maxProcesses = 64

// Drives says this process drives the profile's chaos.
func (s *Split) Drives() bool {
	if s.Chaos != "" {
		return s.Chaos == "on"
	}
	return s.Segment == 0
}

// Check refuses combinations that cannot work with p, before anything runs.
func (s *Split) Check(p *profile.Profile) error {
	embedded := p.Target.Mode == profile.ModeEmbedded
	switch {
	case s.Processes < 0:
		return fmt.Errorf("--processes %d is negative: use 2 or more processes, or leave it out for one", s.Processes)
	case s.Processes > 0 && (s.Segments > 0 || !s.StartAt.IsZero() || s.Chaos != "" || len(s.TargetAdmin) > 0):
		return errors.New("--processes starts its own segments: leave out --segment, --start-at, --chaos and --target-admin")
	case s.Processes > maxProcesses:
		return fmt.Errorf("--processes %d is too many: use at most %d on one machine, or spread the fleet over machines with --segment", s.Processes, maxProcesses)
	case s.Processes > p.Fleet.Clients:
		return fmt.Errorf("--processes %d is more than the profile's %d clients: use at most %d", s.Processes, p.Fleet.Clients, p.Fleet.Clients)
	case s.Segments > p.Fleet.Clients:
		return fmt.Errorf("--segment %d/%d: more segments than the profile's %d clients: use at most %d segments", s.Segment, s.Segments, p.Fleet.Clients, p.Fleet.Clients)
	case len(s.TargetAdmin) > 0 && !embedded:
		return fmt.Errorf("--target-admin: the profile's target.mode is %q; --target-admin stands in for an embedded target run as wsstorm serve", p.Target.Mode)
	case embedded && len(s.TargetAdmin) == 0 && (s.Segments > 1 || s.Chaos == "off"):
		return errors.New("the segments of one run must share one target, but each would start its own embedded target: " +
			"run the target with wsstorm serve and pass its admin URL with --target-admin, use --processes, or use an external target")
	case p.Detect.Enabled && (s.Segments > 1 || s.Processes > 1):
		return errors.New("observe mode ([detect]) finds events in each process's own closes, so segments would not share them: run observe mode as one process, without --segment or --processes")
	case p.Target.Mode == profile.ModeProxy && (s.Segments > 1 || s.Processes > 1 || s.Chaos == "off"):
		return errors.New("proxy mode runs the chaos proxy inside the process, so each segment would have its own and only one would get the chaos: " +
			"run proxy mode as one process, or run `wsstorm proxy` with its admin API and an external-target profile whose restart hooks call it")
	case !s.StartAt.IsZero() && time.Now().After(s.StartAt.Add(p.Duration.D())):
		return fmt.Errorf("--start-at %s: the run's %v would already be over: give a time in the future", s.StartAt.UTC().Format(time.RFC3339), p.Duration.D())
	}
	return nil
}

// Limits is the share of the run this process carries.
func (s *Split) Limits() Limits {
	return Limits{Segment: s.Segment, Segments: s.Segments, TargetElsewhere: len(s.TargetAdmin) > 0}
}

// Apply sets o's share of the run; it reaches the target's admin APIs, if
// any, which o then drives the chaos through.
func (s *Split) Apply(ctx context.Context, o *Options) error {
	o.Segment, o.Segments = s.Segment, s.Segments
	o.StartAt = s.StartAt
	o.NoChaos = !s.Drives()
	if len(s.TargetAdmin) > 0 {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		r, err := admin.Dial(dctx, s.TargetAdmin, nil)
		if err != nil {
			return fmt.Errorf("%w: --target-admin: %w", ErrCannotRun, err)
		}
		o.Remote = r
	}
	return nil
}
