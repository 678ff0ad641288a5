package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/admin"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/storm"
)

// splitFlags are the flags of `wsstorm run` that spread one fleet over
// several processes: --processes on this machine, or --segment on many.
type splitFlags struct {
	processes         int
	segment, segments int // segments 0: the whole fleet
	startAt           time.Time
	chaos             string // "on", "off", or "" (on for segment 0 alone)
	targetAdmin       []string
}

func (sp *splitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&sp.processes, "processes", 0, "run the fleet as `N` processes of wsstorm on this machine (and the embedded target as wsstorm serve processes), then merge their results into one")
	fs.Func("segment", "run only segment `I/N` of the fleet: the clients whose index modulo N is I; merge the N results with wsstorm merge", sp.parseSegment)
	fs.Func("start-at", "begin the run's timeline at `TIME` (RFC 3339, e.g. 2026-11-25T20:00:00Z), so that segments on other processes or machines run the same one", sp.parseStartAt)
	fs.Func("chaos", "`on|off`: whether this segment drives the profile's chaos (default: segment 0 does, the others record the events' times)", sp.parseChaos)
	fs.Func("target-admin", "the profile's embedded target runs as wsstorm serve processes with these admin `URLs` (comma-separated): connect to them and drive the chaos through them", sp.parseAdmin)
}

func (sp *splitFlags) parseSegment(v string) error {
	i, n, ok := strings.Cut(v, "/")
	si, err1 := strconv.Atoi(i)
	sn, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return fmt.Errorf("%q is not I/N: write the segment's index and the number of segments, e.g. 0/4", v)
	case sn < 1 || si < 0 || si >= sn:
		return fmt.Errorf("%q is out of range: the index must be 0 to N-1, e.g. 0/%d to %d/%d", v, max(sn, 1), max(sn-1, 0), max(sn, 1))
	}
	sp.segment, sp.segments = si, sn
	return nil
}

func (sp *splitFlags) parseStartAt(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time: write e.g. %s", v, time.Now().UTC().Add(time.Minute).Truncate(time.Second).Format(time.RFC3339))
	}
	sp.startAt = t
	return nil
}

func (sp *splitFlags) parseChaos(v string) error {
	switch v {
	case "on", "off":
		sp.chaos = v
		return nil
	}
	return fmt.Errorf("%q: use on or off", v)
}

func (sp *splitFlags) parseAdmin(v string) error {
	for u := range strings.SplitSeq(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			sp.targetAdmin = append(sp.targetAdmin, u)
		}
	}
	if len(sp.targetAdmin) == 0 {
		return errors.New("no URL: give the admin URL of each wsstorm serve process, e.g. http://127.0.0.1:9090/")
	}
	return nil
}

// drives says this process drives the profile's chaos.
func (sp *splitFlags) drives() bool {
	if sp.chaos != "" {
		return sp.chaos == "on"
	}
	return sp.segment == 0
}

// check refuses combinations that cannot work with p, before anything runs.
func (sp *splitFlags) check(p *profile.Profile) error {
	embedded := p.Target.Mode == profile.ModeEmbedded
	switch {
	case sp.processes < 0:
		return fmt.Errorf("--processes %d is negative: use 2 or more processes, or leave it out for one", sp.processes)
	case sp.processes > 0 && (sp.segments > 0 || !sp.startAt.IsZero() || sp.chaos != "" || len(sp.targetAdmin) > 0):
		return errors.New("--processes starts its own segments: leave out --segment, --start-at, --chaos and --target-admin")
	case sp.processes > maxProcesses:
		return fmt.Errorf("--processes %d is too many: use at most %d on one machine, or spread the fleet over machines with --segment", sp.processes, maxProcesses)
	case sp.processes > p.Fleet.Clients:
		return fmt.Errorf("--processes %d is more than the profile's %d clients: use at most %d", sp.processes, p.Fleet.Clients, p.Fleet.Clients)
	case sp.segments > p.Fleet.Clients:
		return fmt.Errorf("--segment %d/%d: more segments than the profile's %d clients: use at most %d segments", sp.segment, sp.segments, p.Fleet.Clients, p.Fleet.Clients)
	case len(sp.targetAdmin) > 0 && !embedded:
		return fmt.Errorf("--target-admin: the profile's target.mode is %q; --target-admin stands in for an embedded target run as wsstorm serve", p.Target.Mode)
	case embedded && len(sp.targetAdmin) == 0 && (sp.segments > 1 || sp.chaos == "off"):
		return errors.New("the segments of one run must share one target, but each would start its own embedded target: " +
			"run the target with wsstorm serve and pass its admin URL with --target-admin, use --processes, or use an external target")
	case p.Detect.Enabled && (sp.segments > 1 || sp.processes > 1):
		return errors.New("observe mode ([detect]) finds events in each process's own closes, so segments would not share them: run observe mode as one process, without --segment or --processes")
	case p.Target.Mode == profile.ModeProxy && (sp.segments > 1 || sp.processes > 1 || sp.chaos == "off"):
		return errors.New("proxy mode runs the chaos proxy inside the process, so each segment would have its own and only one would get the chaos: " +
			"run proxy mode as one process, or run `wsstorm proxy` with its admin API and an external-target profile whose restart hooks call it")
	case !sp.startAt.IsZero() && time.Now().After(sp.startAt.Add(p.Duration.D())):
		return fmt.Errorf("--start-at %s: the run's %v would already be over: give a time in the future", sp.startAt.UTC().Format(time.RFC3339), p.Duration.D())
	}
	return nil
}

// maxProcesses bounds --processes: each is a whole runtime.
const maxProcesses = 64

// limits is the share of the run this process carries.
func (sp *splitFlags) limits() storm.Limits {
	return storm.Limits{Segment: sp.segment, Segments: sp.segments, TargetElsewhere: len(sp.targetAdmin) > 0}
}

// apply sets the run's options from the flags; it reaches the target's
// admin APIs, if any.
func (sp *splitFlags) apply(ctx context.Context, o *storm.Options) error {
	o.Segment, o.Segments = sp.segment, sp.segments
	o.StartAt = sp.startAt
	o.NoChaos = !sp.drives()
	if len(sp.targetAdmin) > 0 {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		r, err := admin.Dial(dctx, sp.targetAdmin, nil)
		if err != nil {
			return fmt.Errorf("%w: --target-admin: %w", storm.ErrCannotRun, err)
		}
		o.Remote = r
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
