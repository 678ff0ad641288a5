package results

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// objectKeys returns the keys of a JSON object in file order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestSummaryJSONLayout(t *testing.T) {
	_, data := writeFixture(t, fixtureRun(t))

	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var events []json.RawMessage
	if err := json.Unmarshal(doc["events"], &events); err != nil {
		t.Fatal(err)
	}
	var latency map[string]json.RawMessage
	if err := json.Unmarshal(doc["latency_ms"], &latency); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		raw  []byte
		want []string
	}{
		{"top level", data, []string{"schema", "profile", "insecure_skip_verify", "seed", "started_at", "duration_s", "interrupted", "passed",
			"clients", "peak_connected", "counters", "latency_ms", "events", "thresholds", "target", "reconnect_breakdown"}},
		{"profile", doc["profile"], []string{"name", "path", "sha256", "overrides"}},
		{"counters", doc["counters"], []string{"connect_attempts", "connects", "connect_failures", "closes",
			"client_closes", "reconnects", "gave_up", "messages_sent", "messages_received", "other_failures",
			"protocol_stops", "protocol_reconnects"}},
		{"latency_ms", doc["latency_ms"], []string{"connect", "reconnect", "recovery", "message_rtt", "dial_lag"}},
		{"latency", latency["connect"], []string{"count", "min", "mean", "p50", "p90", "p99", "p999", "max"}},
		{"event", events[0], []string{"index", "at_s", "action", "node", "code", "affected", "reconnected",
			"never_reconnected", "t50_s", "t90_s", "t99_s", "t100_s", "peak_attempt_rate", "mean_attempt_rate",
			"herd_factor", "attempts_per_client", "failed_attempts", "imbalance_after", "reconnect_expected", "failed",
			"first_attempts", "intended_peak_attempt_rate", "dial_lag_ms", "dial_lag_bound_ms", "generator_limited", "reconnect_breakdown",
			"cpu_busy_pct", "machine_cpu_busy_pct", "cpu_saturated", "queued_attempts"}},
		{"reconnect_breakdown", doc["reconnect_breakdown"], []string{"reconnects", "backoff_ms", "dial_lag_ms", "failed_attempts_ms", "handshake_ms"}},
		{"target", doc["target"], []string{"nodes", "imbalance_end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := objectKeys(t, tt.raw); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("keys\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	if !bytes.Contains(data, []byte(`"expr": "reconnect.p99 < 5s"`)) {
		t.Errorf("threshold expression is escaped or missing:\n%s", data)
	}
}

func TestSummaryJSONValues(t *testing.T) {
	_, data := writeFixture(t, fixtureRun(t))
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	// JSON numbers decode as float64; null as nil.
	want := map[string]any{
		"schema":               "wsstorm.summary/v1",
		"profile":              map[string]any{"name": "default", "path": "profiles/default.toml", "sha256": "5f1c0e2a9b7d4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a", "overrides": []any{}},
		"insecure_skip_verify": false,
		"seed":                 1.0,
		"started_at":           "2026-11-25T15:01:02.123Z",
		"duration_s":           45.012,
		"interrupted":          false,
		"passed":               true,
		"clients":              2000.0,
		"peak_connected":       2000.0,
		"counters": map[string]any{
			"connect_attempts": 2702.0, "connects": 2687.0,
			"connect_failures":    map[string]any{"http_503": 15.0},
			"other_failures":      []any{},
			"protocol_stops":      map[string]any{},
			"protocol_reconnects": map[string]any{},
			"closes":              map[string]any{"1000": 200.0, "1012": 2000.0},
			"client_closes":       1800.0, "reconnects": 2600.0, "gave_up": 0.0,
			"messages_sent": 88000.0, "messages_received": 87990.0,
		},
		"latency_ms": map[string]any{
			"connect": map[string]any{"count": 10.0, "min": 0.1, "mean": 0.55, "p50": 0.5, "p90": 0.9, "p99": 1.0, "p999": 1.0, "max": 1.0},
			// 4,950,000 µs lies in a bucket 4096 µs wide: [4,947,968, 4,952,063].
			"reconnect":   map[string]any{"count": 1000.0, "min": 1.5, "mean": 11.397, "p50": 1.5, "p90": 1.5, "p99": 1.5, "p999": 4952.063, "max": 4952.063},
			"recovery":    map[string]any{"count": 0.0, "min": nil, "mean": nil, "p50": nil, "p90": nil, "p99": nil, "p999": nil, "max": nil},
			"message_rtt": map[string]any{"count": 1.0, "min": 0.25, "mean": 0.25, "p50": 0.25, "p90": 0.25, "p99": 0.25, "p999": 0.25, "max": 0.25},
			// 8,000 µs lies in a bucket 4 µs wide: [8,000, 8,003].
			"dial_lag": map[string]any{"count": 2000.0, "min": 0.12, "mean": 0.159, "p50": 0.12, "p90": 0.12, "p99": 0.12, "p999": 8.003, "max": 8.003},
		},
		"reconnect_breakdown": map[string]any{"reconnects": 998.0, "backoff_ms": 1.2, "dial_lag_ms": 0.15, "failed_attempts_ms": 0.0, "handshake_ms": 0.15},
		"events": []any{
			map[string]any{
				"index": 0.0, "at_s": 10.0, "action": "rolling_restart", "node": 0.0, "code": 1012.0,
				"affected": 667.0, "reconnected": 667.0, "never_reconnected": 0.0,
				"t50_s": 3.022, "t90_s": 4.1, "t99_s": 4.95, "t100_s": 5.01,
				"peak_attempt_rate": 412.0, "mean_attempt_rate": 196.1, "herd_factor": 2.1, "attempts_per_client": 1.022,
				"failed_attempts": map[string]any{"http_503": 15.0}, "imbalance_after": 1.023, "reconnect_expected": true, "failed": false,
				"first_attempts": 667.0, "intended_peak_attempt_rate": 6070.0,
				"dial_lag_ms":       map[string]any{"count": 682.0, "min": 3.0, "mean": 3.782, "p50": 3.001, "p90": 9.503, "p99": 9.503, "p999": 9.503, "max": 9.503},
				"dial_lag_bound_ms": 247.5, "generator_limited": false, "cpu_busy_pct": nil, "machine_cpu_busy_pct": nil, "cpu_saturated": false, "queued_attempts": 0.0,
				"reconnect_breakdown": map[string]any{"reconnects": 667.0, "backoff_ms": 2900.0, "dial_lag_ms": 4.0, "failed_attempts_ms": 1.124, "handshake_ms": 1.5},
			},
			map[string]any{
				"index": 1.0, "at_s": 38.0, "action": "close", "node": nil, "code": 1000.0,
				"affected": 200.0, "reconnected": 0.0, "never_reconnected": 200.0,
				"t50_s": nil, "t90_s": nil, "t99_s": nil, "t100_s": nil,
				"peak_attempt_rate": 0.0, "mean_attempt_rate": 0.0, "herd_factor": 0.0, "attempts_per_client": 0.0,
				"failed_attempts": map[string]any{}, "imbalance_after": nil, "reconnect_expected": false, "failed": false,
				"first_attempts": 0.0, "intended_peak_attempt_rate": 0.0, "dial_lag_bound_ms": 0.0, "generator_limited": false,
				"cpu_busy_pct": nil, "machine_cpu_busy_pct": nil, "cpu_saturated": false, "queued_attempts": 0.0,
				"reconnect_breakdown": map[string]any{"reconnects": 0.0, "backoff_ms": 0.0, "dial_lag_ms": 0.0, "failed_attempts_ms": 0.0, "handshake_ms": 0.0},
			},
		},
		"thresholds": []any{map[string]any{"expr": "reconnect.p99 < 5s", "value": 1.5, "unit": "ms", "ok": true}},
		"target": map[string]any{
			"nodes": []any{
				map[string]any{"index": 0.0, "accepted": 900.0, "rejected": 15.0, "connections_end": 667.0},
				map[string]any{"index": 1.0, "accepted": 890.0, "rejected": 0.0, "connections_end": 667.0},
				map[string]any{"index": 2.0, "accepted": 897.0, "rejected": 0.0, "connections_end": 666.0},
			},
			"imbalance_end": 1.001,
		},
	}
	for key, w := range want {
		if !reflect.DeepEqual(got[key], w) {
			t.Errorf("%s\n got %#v\nwant %#v", key, got[key], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("summary has %d keys, want %d", len(got), len(want))
	}
}

func TestSummaryEmptyRun(t *testing.T) {
	// An interrupted run that recorded nothing: nil histograms and maps.
	run := bare(&Run{Results: emptyResults(), Interrupted: true})
	_, data := writeFixture(t, run)
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key  string
		want any
	}{
		{"interrupted", true},
		{"passed", false},
		{"events", []any{}},
		{"thresholds", []any{}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(got[c.key], c.want) {
			t.Errorf("%s = %#v, want %#v", c.key, got[c.key], c.want)
		}
	}
	counters := got["counters"].(map[string]any)
	for _, k := range []string{"connect_failures", "closes"} {
		if !reflect.DeepEqual(counters[k], map[string]any{}) {
			t.Errorf("counters.%s = %#v, want {}", k, counters[k])
		}
	}
	if !reflect.DeepEqual(counters["other_failures"], []any{}) {
		t.Errorf("counters.other_failures = %#v, want []", counters["other_failures"])
	}
	if _, ok := got["target"]; ok {
		t.Error("target present without an embedded target")
	}
	for name, l := range got["latency_ms"].(map[string]any) {
		l := l.(map[string]any)
		if l["count"] != 0.0 || l["p99"] != nil || l["max"] != nil {
			t.Errorf("latency_ms.%s = %v, want count 0 and nulls", name, l)
		}
	}
}

func TestBuildSummarySharesNothing(t *testing.T) {
	run := fixtureRun(t)
	s := run.summary()
	s.Counters.ConnectFailures["x"] = 1
	s.Counters.Closes[4000] = 1
	s.Events[0].FailedAttempts["x"] = 1
	s.Target.Nodes[0].Accepted = -1
	run.Results.Counters.OtherFailures = []string{"a"}
	run.summary().Counters.OtherFailures[0] = "x"
	r := run.Results
	if r.Counters.OtherFailures[0] != "a" {
		t.Error("summary shares Counters.OtherFailures")
	}
	if _, ok := r.Counters.ConnectFailures["x"]; ok {
		t.Error("summary shares Counters.ConnectFailures")
	}
	if _, ok := r.Counters.Closes[4000]; ok {
		t.Error("summary shares Counters.Closes")
	}
	if _, ok := r.Events[0].FailedAttempts["x"]; ok {
		t.Error("summary shares an event's FailedAttempts")
	}
	if run.Target.Nodes[0].Accepted != 900 {
		t.Error("summary shares Target.Nodes")
	}
}

func TestDefaultDir(t *testing.T) {
	started := time.Date(2026, 11, 25, 16, 1, 2, 999_000_000, time.FixedZone("CET", 3600))
	tests := []struct {
		name, profile, want string
	}{
		{"plain", "default", filepath.Join("results", "default", "20261125T150102Z")},
		{"separators", "../a/b", filepath.Join("results", ".._a_b", "20261125T150102Z")},
		{"dots only", "..", filepath.Join("results", "unnamed", "20261125T150102Z")},
		{"empty", "", filepath.Join("results", "unnamed", "20261125T150102Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultDir("results", tt.profile, started); got != tt.want {
				t.Errorf("DefaultDir = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSummaryDetectionAndFrozen: an event's close times become its
// detection_ms, in milliseconds, and a freeze's count its frozen; an event
// without either has neither key.
func TestSummaryDetectionAndFrozen(t *testing.T) {
	run := fixtureRun(t)
	e := &run.Results.Events[0]
	e.CloseAt = stats.NewHistogram()
	for _, us := range []int64{310, 480, 694} { // exact below 2,048 µs
		if err := e.CloseAt.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	e.Frozen = 667
	_, data := writeFixture(t, run)
	var got struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": 3.0, "min": 0.31, "mean": 0.495, "p50": 0.48, "p90": 0.694, "p99": 0.694, "p999": 0.694, "max": 0.694}
	if d := got.Events[0]["detection_ms"]; !reflect.DeepEqual(d, want) {
		t.Errorf("detection_ms %#v, want %#v", d, want)
	}
	if f := got.Events[0]["frozen"]; f != 667.0 {
		t.Errorf("frozen %v, want 667", f)
	}
	for _, k := range []string{"detection_ms", "frozen"} {
		if _, ok := got.Events[1][k]; ok {
			t.Errorf("event 1 has %s, which it did not record", k)
		}
	}
}

// TestSummaryOtherFailures: the messages of the other failures are written
// in the counters, read back, and absent from an older file they read as
// none.
func TestSummaryOtherFailures(t *testing.T) {
	run := fixtureRun(t)
	msgs := []string{"dial tcp 127.0.0.1:8080: socket: too many open files", `malformed HTTP response "HELLO"`}
	run.Results.Counters.OtherFailures = msgs
	dir, data := writeFixture(t, run)
	if !bytes.Contains(data, []byte(`"other_failures": [
      "dial tcp 127.0.0.1:8080: socket: too many open files",
      "malformed HTTP response \"HELLO\""
    ]`)) {
		t.Errorf("summary.json lacks the messages:\n%s", data)
	}
	s, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Counters.OtherFailures, msgs) {
		t.Errorf("read back %q, want %q", s.Counters.OtherFailures, msgs)
	}
	old := filepath.Join(t.TempDir(), SummaryFile)
	if err := os.WriteFile(old, bytes.Replace(data, []byte(`"other_failures"`), []byte(`"x_other_failures"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err = ReadSummary(old); err != nil {
		t.Fatal(err)
	}
	if s.Counters.OtherFailures == nil || len(s.Counters.OtherFailures) != 0 {
		t.Errorf("a file without other_failures reads as %#v, want none", s.Counters.OtherFailures)
	}
}
