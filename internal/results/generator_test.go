package results

import (
	"reflect"
	"testing"
)

func TestLagExcesses(t *testing.T) {
	p99 := 9.5
	busy, small := 96.5, 0.4
	events := []EventSummary{{Index: 0, DialLagMS: &LatencySummary{P99: &p99}, DialLagBoundMS: 5}, {Index: 1, DialLagBoundMS: 250},
		{Index: 2, DialLagMS: &LatencySummary{P99: &small}, DialLagBoundMS: 100, CPUBusyPct: &busy, CPUSaturated: true}}
	for _, tc := range []struct {
		name string
		g    *GeneratorSummary
		want []LagExcess
	}{
		{"not limited", nil, nil},
		// Only the events are judged by their dial lag, each with its own
		// figures; the run's (its ramp's included) is not.
		{"in an event", &GeneratorSummary{DialLagP99MS: 0.12, BoundMS: 5, Events: []int{0}}, []LagExcess{{0, 9.5, 5, 0, 0, 0}}},
		{"the run's lag", &GeneratorSummary{DialLagP99MS: 12, BoundMS: 5, Events: []int{0}}, []LagExcess{{0, 9.5, 5, 0, 0, 0}}},
		// Failures on the generator's own limits outside every event it
		// names are the run's.
		{"local failures", &GeneratorSummary{DialLagP99MS: 12, BoundMS: 5, Events: []int{}, LocalFailures: 3}, []LagExcess{{-1, 12, 5, 0, 0, 3}}},
		// Event 2's lag stayed under its bound; its CPU did not.
		{"CPU", &GeneratorSummary{DialLagP99MS: 0.12, BoundMS: 5, Events: []int{2}, CPUSaturatedEvents: []int{2}}, []LagExcess{{2, 0.4, 100, 96.5, -1, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Summary{GeneratorLimited: tc.g, Events: events}
			if got := s.LagExcesses(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLagFigures(t *testing.T) {
	p99 := 9.5
	s := &Summary{
		GeneratorLimited: &GeneratorSummary{DialLagP99MS: 12, BoundMS: 5, Events: []int{0}},
		Events:           []EventSummary{{Index: 0, DialLagMS: &LatencySummary{P99: &p99}, DialLagBoundMS: 0.5}},
	}
	if got, want := s.LagFigures(), "event #0: dial lag p99 9.5 ms, bound 0.500 ms"; got != want {
		t.Errorf("%q\nwant %q", got, want)
	}
	busy := 97.0
	cpu := &Summary{
		GeneratorLimited: &GeneratorSummary{DialLagP99MS: 0.2, BoundMS: 5, Events: []int{0}, CPUSaturatedEvents: []int{0}},
		Events:           []EventSummary{{Index: 0, DialLagMS: &LatencySummary{P99: &p99}, DialLagBoundMS: 100, CPUBusyPct: &busy, CPUSaturated: true}},
	}
	if got, want := cpu.LagFigures(), "event #0: CPU saturated (this process 97% of its cores)"; got != want || !cpu.CPUSaturated() {
		t.Errorf("%q (CPU saturated: %v)\nwant %q", got, cpu.CPUSaturated(), want)
	}
	if got := (&Summary{}).LagFigures(); got != "" {
		t.Errorf("not limited: %q", got)
	}
}
