package action

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestScaleTimes checks that a step's at and each duration key of every
// action in the table are scaled, and nothing else.
func TestScaleTimes(t *testing.T) {
	double := func(d time.Duration) time.Duration { return 2 * d }
	s := Step{At: 10 * time.Second, Action: "rolling_restart", Params: &RollingRestartParams{
		Nodes: []int{2, 0}, Batch: 1, Interval: 8 * time.Second, Drain: time.Second, Downtime: 2 * time.Second, Code: 1012, Reason: "r",
	}}
	keys := ScaleTimes(&s, double)
	want := &RollingRestartParams{Nodes: []int{2, 0}, Batch: 1, Interval: 16 * time.Second, Drain: 2 * time.Second, Downtime: 4 * time.Second, Code: 1012, Reason: "r"}
	if s.At != 20*time.Second || !reflect.DeepEqual(s.Params, want) {
		t.Errorf("scaled: at %v, %+v; want 20s, %+v", s.At, s.Params, want)
	}
	if !slices.Equal(keys, []string{"at", "interval", "drain", "downtime"}) {
		t.Errorf("keys %v", keys)
	}
	wantKeys := map[string][]string{
		"rolling_restart": {"at", "interval", "drain", "downtime"},
		"restart":         {"at", "drain", "downtime"},
		"close":           {"at"},
		"crash":           {"at", "downtime"},
		"freeze":          {"at", "for"},
	}
	for _, name := range Names() {
		a, _ := Lookup(name)
		s := Step{Action: name, Params: a.Params()}
		if got := ScaleTimes(&s, double); !slices.Equal(got, wantKeys[name]) {
			t.Errorf("%s: scaled %v, want %v", name, got, wantKeys[name])
		}
	}
	unknown := Step{At: time.Second, Action: "nope"}
	if got := ScaleTimes(&unknown, double); unknown.At != 2*time.Second || !slices.Equal(got, []string{"at"}) {
		t.Errorf("unknown action: at %v, keys %v", unknown.At, got)
	}
}
