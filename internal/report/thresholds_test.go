package report

import (
	"reflect"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/results/resultstest"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// TestJudgeEachFamily measures one threshold of every metric family on the
// fixture run, whose values are known.
func TestJudgeEachFamily(t *testing.T) {
	run := fixtureRun(t)
	s := summarize(run)
	attempts := float64(s.Counters.ConnectAttempts)
	for _, tc := range []struct {
		metric, expr string
		value        *float64
		ok           bool
	}{
		{"reconnect.p99", "< 5s", s.LatencyMS.Reconnect.P99, true},
		{"reconnect.max", "< 10ms", s.LatencyMS.Reconnect.Max, false},
		{"recovery.p50", "< 1s", nil, false}, // nothing recorded: no value, fails
		{"dial_lag.p99", "< 50ms", s.LatencyMS.DialLag.P99, true},
		{"events.t99", "< 10s", ptr(*s.Events[0].T99S * 1000), true}, // the 1000 close is not judged
		{"events.t99", "< 4s", ptr(*s.Events[0].T99S * 1000), false},
		{"events.affected", ">= 1", ptr(float64(s.Events[0].Affected)), true},
		{"events.peak_attempt_rate", "< 1000", ptr(s.Events[0].PeakAttemptRate), true},
		{"connects", "== 2687", ptr(2687), true},
		{"connect_failures.http_503", "< 1%", ptr(float64(int64(15/attempts*100*1e4+0.5)) / 1e4), true},
		{"connect_failures", "== 15", ptr(15), true},
		{"closes.1012", "== 2000", ptr(2000), true},
		{"never_reconnected", "== 0", ptr(0), true}, // the 200 closed with 1000 do not count
		{"imbalance_end", "< 1.01", s.Target.ImbalanceEnd, true},
	} {
		th, err := profile.ParseThreshold(tc.metric, tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := judge(s, []profile.Threshold{th})[0]
		switch {
		case got.OK != tc.ok:
			t.Errorf("%s: ok %v, want %v (value %v)", got.Expr, got.OK, tc.ok, deref(got.Value))
		case (got.Value == nil) != (tc.value == nil) || got.Value != nil && *got.Value != *tc.value:
			t.Errorf("%s: value %v, want %v", got.Expr, deref(got.Value), deref(tc.value))
		}
	}
}

func TestEventsThresholdWithoutEventsFails(t *testing.T) {
	s := summarize(bare(&results.Run{Results: emptyResults()}))
	th, _ := profile.ParseThreshold("events.t99", "< 10s")
	if got := judge(s, []profile.Threshold{th})[0]; got.OK || got.Value != nil {
		t.Fatalf("%+v: an events threshold on a run without events must fail", got)
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// TestMeasuredText: a measured value reads in the unit its bound is
// written in, so a line never sets seconds against milliseconds.
func TestMeasuredText(t *testing.T) {
	for _, tc := range []struct {
		expr string
		v    *float64
		unit string
		want string
	}{
		{"reconnect.p99 < 2000ms", ptr(1018.9999999999999), "ms", "1019ms"},
		{"connect.p50 < 1ms", ptr(0.2234567), "ms", "0.223457ms"},
		{"events.t100 < 3s", ptr(1017), "ms", "1.017s"},
		{"reconnect.p99 < 5s", ptr(1.5), "ms", "0.0015s"},
		{"events.t100 < 1m30s", ptr(45000), "ms", "45s"},
		{"events.t100 < 2m", ptr(90000), "ms", "1.5m"},
		{"connect.max < 900us", ptr(0.25), "ms", "250us"},
		{"connect_failures < 1%", ptr(0.000123456789), "%", "0.000123457%"},
		{"messages_sent > 5s", ptr(2_500_000), "", "2500000"},
		{"gave_up == 0", ptr(0), "", "0"},
		{"reconnect.p99 < 5s", nil, "ms", "no value"},
	} {
		if got := measuredText(results.Threshold{Expr: tc.expr, Value: tc.v, Unit: tc.unit}); got != tc.want {
			t.Errorf("%s: %v%s reads %q, want %q", tc.expr, deref(tc.v), tc.unit, got, tc.want)
		}
	}
}

// TestDialLagThreshold checks that a profile can gate on the generator's
// dial lag: the threshold loads with the profile and is judged from
// summary.json's latency_ms.dial_lag.
func TestDialLagThreshold(t *testing.T) {
	p, err := profile.Parse([]byte("duration = \"10s\"\n[thresholds]\n\"dial_lag.p99\" = \"< 50ms\"\n"), "gate.toml", nil)
	if err != nil {
		t.Fatalf("a dial_lag threshold does not load: %v", err)
	}
	run := fixtureRun(t)
	s := Summarize(p, run.Run)
	want := results.Threshold{Expr: "dial_lag.p99 < 50ms", Value: s.LatencyMS.DialLag.P99, Unit: "ms", OK: true}
	if len(s.Thresholds) != 1 || !reflect.DeepEqual(s.Thresholds[0], want) || *want.Value != 0.12 || !s.Passed {
		t.Fatalf("thresholds %+v, passed %v; want %+v at 0.12 ms", s.Thresholds, s.Passed, want)
	}
	// A generator 80 ms late on every attempt fails the gate.
	run.Results.Histograms[stats.DialLag] = resultstest.Histogram(t, map[int64]int64{80_000: 100})
	s = Summarize(p, run.Run)
	if got := s.Thresholds[0]; got.OK || got.Value == nil || *got.Value < 79.9 || s.Passed {
		t.Errorf("%+v (value %v), passed %v; want 80 ms, failed", got, deref(got.Value), s.Passed)
	}
}

// TestJudgeNamedLocalFailures: a threshold names a reason of the client's
// machine; a run without such failures measures 0 of them.
func TestJudgeNamedLocalFailures(t *testing.T) {
	s := summarize(fixtureRun(t))
	s.Counters.ConnectFailures["too_many_open_files"] = 27
	for _, tc := range []struct {
		metric, expr string
		value        float64
		ok           bool
	}{
		{"connect_failures.too_many_open_files", "== 0", 27, false},
		{"connect_failures.no_source_port", "== 0", 0, true},
		{"connect_failures.too_many_open_files", "< 1%", float64(int64(27/float64(s.Counters.ConnectAttempts)*100*1e4+0.5)) / 1e4, true},
	} {
		th, err := profile.ParseThreshold(tc.metric, tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got := judge(s, []profile.Threshold{th})[0]
		if got.OK != tc.ok || got.Value == nil || *got.Value != tc.value {
			t.Errorf("%s: ok %v value %v, want %v %v", got.Expr, got.OK, deref(got.Value), tc.ok, tc.value)
		}
	}
}
