package storm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// SetSegment reads I/N, segment I of N (--segment).
func (s *Split) SetSegment(v string) error {
	i, n, ok := strings.Cut(v, "/")
	si, err1 := strconv.Atoi(i)
	sn, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return fmt.Errorf("%q is not I/N: write the segment's index and the number of segments, e.g. 0/4", v)
	case sn < 1 || si < 0 || si >= sn:
		return fmt.Errorf("%q is out of range: the index must be 0 to N-1, e.g. 0/%d to %d/%d", v, max(sn, 1), max(sn-1, 0), max(sn, 1))
	}
	s.Segment, s.Segments = si, sn
	return nil
}

// SetStartAt reads the RFC 3339 time the run's timeline begins at
// (--start-at).
func (s *Split) SetStartAt(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time: write e.g. %s", v, time.Now().UTC().Add(time.Minute).Truncate(time.Second).Format(time.RFC3339))
	}
	s.StartAt = t
	return nil
}

// SetChaos reads on or off (--chaos).
func (s *Split) SetChaos(v string) error {
	if v != "on" && v != "off" {
		return fmt.Errorf("%q: use on or off", v)
	}
	s.Chaos = v
	return nil
}

// AddTargetAdmin reads a comma-separated list of admin URLs
// (--target-admin).
func (s *Split) AddTargetAdmin(v string) error {
	for u := range strings.SplitSeq(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			s.TargetAdmin = append(s.TargetAdmin, u)
		}
	}
	if len(s.TargetAdmin) == 0 {
		return errors.New("no URL: give the admin URL of each wsstorm serve process, e.g. http://127.0.0.1:9090/")
	}
	return nil
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
