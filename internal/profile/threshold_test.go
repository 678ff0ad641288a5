package profile

import (
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	for _, tc := range []struct {
		metric, expr string
		op           string
		value        float64
		kind         ValueKind
		err          string // in the error; "" for valid
	}{
		{"reconnect.p99", "< 5s", "<", 5000, KindDuration, ""},
		{"recovery.p50", "<= 800ms", "<=", 800, KindDuration, ""},
		{"message_rtt.p999", ">=1.5ms", ">=", 1.5, KindDuration, ""},
		{"dial_lag.p99", "< 50ms", "<", 50, KindDuration, ""},
		{"events.t99", "< 10s", "<", 10000, KindDuration, ""},
		{"events.peak_attempt_rate", "< 4000", "<", 4000, KindNumber, ""},
		{"events.herd_factor", "!= 1.5", "!=", 1.5, KindNumber, ""},
		{"never_reconnected", "== 0", "==", 0, KindNumber, ""},
		{"connect_failures.http_503", "< 1%", "<", 1, KindPercent, ""},
		{"connect_failures", "< 0.5%", "<", 0.5, KindPercent, ""},
		{"connect_failures.refused", "== 0", "==", 0, KindNumber, ""},
		{"connect_failures.no_source_port", "== 0", "==", 0, KindNumber, ""},
		{"connect_failures.too_many_open_files", "< 0.1%", "<", 0.1, KindPercent, ""},
		{"connect_failures.unreachable", "== 0", "==", 0, KindNumber, ""},
		{"connect_failures.dns", "== 0", "==", 0, KindNumber, ""},
		{"closes.1012", "> 100", ">", 100, KindNumber, ""},
		{"imbalance_end", "< 1.5", "<", 1.5, KindNumber, ""},
		{"reconect.p99", "< 5s", "", 0, 0, "not a metric thresholds know: use one of connect.min"},
		{"connect.p95", "< 5s", "", 0, 0, "not a metric"},
		{"closes.1006x", "< 5", "", 0, 0, "not a metric"},
		{"connect_failures.weird", "< 5", "", 0, 0, "not a metric"},
		{"reconnect.p99", "5s", "", 0, 0, "is not a threshold"},
		{"reconnect.p99", "=< 5s", "", 0, 0, "is not a threshold"},
		{"reconnect.p99", "< 5", "", 0, 0, "5 is not a duration"},
		{"reconnect.p99", "< 5%", "", 0, 0, "applies only to connect_failures"},
		{"events.t99", "< soon", "", 0, 0, "soon is not a duration"},
		{"events.peak_attempt_rate", "< 4k", "", 0, 0, "4k is not a number"},
		{"connect_failures", "< 150%", "", 0, 0, "is not a share"},
		{"gave_up", "> -1", "", 0, 0, "-1 is not a number"},
	} {
		th, err := ParseThreshold(tc.metric, tc.expr)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q: err %v, want %q", tc.metric, tc.expr, err, tc.err)
			}
			continue
		}
		if err != nil || th.Op != tc.op || th.Value != tc.value || th.Kind != tc.kind {
			t.Errorf("%s %q: %+v, %v; want op %s value %v kind %v", tc.metric, tc.expr, th, err, tc.op, tc.value, tc.kind)
		}
	}
}

func TestThresholdHolds(t *testing.T) {
	for _, tc := range []struct {
		op   string
		v    float64
		want bool
	}{{"<", 4, true}, {"<", 5, false}, {"<=", 5, true}, {">", 5, false}, {">=", 5, true}, {"==", 5, true}, {"!=", 5, false}} {
		if got := (Threshold{Op: tc.op, Value: 5}).Holds(tc.v); got != tc.want {
			t.Errorf("%v %s 5 = %v", tc.v, tc.op, got)
		}
	}
}

func TestThresholdsValidatedAtLoad(t *testing.T) {
	src := "duration = \"10s\"\n[thresholds]\n\"reconnect.p99\" = \"< 5s\"\n\"reconect.p99\" = \"< 5s\"\n\"events.t99\" = \"< lots\"\n"
	_, err := Parse([]byte(src), "th.toml", nil)
	if err == nil {
		t.Fatal("bad thresholds accepted")
	}
	for _, want := range []string{`th.toml:4: thresholds."reconect.p99": "reconect.p99" is not a metric`, `th.toml:5: thresholds."events.t99": lots is not a duration`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	p, err := Parse([]byte("duration = \"10s\"\n[thresholds]\n\"reconnect.p99\" = \"< 5s\"\n\"gave_up\" = \"== 0\"\n"), "ok.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := p.ParsedThresholds()
	if len(got) != 2 || got[0].String() != "gave_up == 0" || got[1].String() != "reconnect.p99 < 5s" {
		t.Fatalf("parsed %v", got)
	}
}
