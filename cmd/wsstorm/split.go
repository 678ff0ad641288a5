package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/storm"
)

// registerSplit defines the flags of `wsstorm run` that spread one fleet
// over several processes, into s: --processes on this machine, or
// --segment on many.
func registerSplit(fs *flag.FlagSet, s *storm.Split) {
	fs.IntVar(&s.Processes, "processes", 0, "run the fleet as `N` processes of wsstorm on this machine (and the embedded target as wsstorm serve processes), then merge their results into one")
	fs.Func("segment", "run only segment `I/N` of the fleet: the clients whose index modulo N is I; merge the N results with wsstorm merge", func(v string) error {
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
	})
	fs.Func("start-at", "begin the run's timeline at `TIME` (RFC 3339, e.g. 2026-11-25T20:00:00Z), so that segments on other processes or machines run the same one", func(v string) error {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("%q is not an RFC 3339 time: write e.g. %s", v, time.Now().UTC().Add(time.Minute).Truncate(time.Second).Format(time.RFC3339))
		}
		s.StartAt = t
		return nil
	})
	fs.Func("chaos", "`on|off`: whether this segment drives the profile's chaos (default: segment 0 does, the others record the events' times)", func(v string) error {
		if v != "on" && v != "off" {
			return fmt.Errorf("%q: use on or off", v)
		}
		s.Chaos = v
		return nil
	})
	fs.Func("target-admin", "the profile's embedded target runs as wsstorm serve processes with these admin `URLs` (comma-separated): connect to them and drive the chaos through them", func(v string) error {
		for u := range strings.SplitSeq(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				s.TargetAdmin = append(s.TargetAdmin, u)
			}
		}
		if len(s.TargetAdmin) == 0 {
			return errors.New("no URL: give the admin URL of each wsstorm serve process, e.g. http://127.0.0.1:9090/")
		}
		return nil
	})
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
