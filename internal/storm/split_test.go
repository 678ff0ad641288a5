package storm

import (
	"strings"
	"testing"
	"time"
)

// TestSplitFlags: the split's flag values are read, or refused with what
// to write instead; segment 0 drives the chaos unless told.
func TestSplitFlags(t *testing.T) {
	var s Split
	for _, bad := range []struct {
		set     func(string) error
		v, want string
	}{
		{s.SetSegment, "1", "is not I/N"},
		{s.SetSegment, "4/4", "is out of range"},
		{s.SetStartAt, "tomorrow", "is not an RFC 3339 time"},
		{s.SetChaos, "yes", "use on or off"},
		{s.AddTargetAdmin, " , ", "no URL"},
	} {
		if err := bad.set(bad.v); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.v, err, bad.want)
		}
	}
	for _, set := range []func() error{
		func() error { return s.SetSegment("1/3") },
		func() error { return s.SetStartAt("2030-01-02T03:04:05Z") },
		func() error { return s.AddTargetAdmin("http://a/, http://b/") },
	} {
		if err := set(); err != nil {
			t.Fatal(err)
		}
	}
	if s.Segment != 1 || s.Segments != 3 || !s.StartAt.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) || len(s.TargetAdmin) != 2 || s.Drives() {
		t.Errorf("split %+v, drives %v", s, s.Drives())
	}
	if err := s.SetChaos("on"); err != nil || !s.Drives() {
		t.Errorf("--chaos on: %v, drives %v", err, s.Drives())
	}
	if l := s.Limits(); l.Segment != 1 || l.Segments != 3 || !l.TargetElsewhere {
		t.Errorf("limits %+v", l)
	}
}
