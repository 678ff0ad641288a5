package results

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

// simulatedRun is the fixture run as wsstorm simulate would hand it over.
func simulatedRun(t *testing.T, calibratedFrom string) *testRun {
	t.Helper()
	run := fixtureRun(t)
	run.Simulated = &Simulated{
		Model:          json.RawMessage(`{"nodes":3,"accept_rate":150,"rtt_ms":{"p50":0.4}}`),
		CalibratedFrom: calibratedFrom,
		WallS:          0.81234,
		SimEvents:      123456,
	}
	return run
}

// sameJSON reports whether a and b hold the same JSON value, whatever
// their layout.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var ca, cb bytes.Buffer
	if err := json.Compact(&ca, a); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Compact(&cb, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// TestSimulatedRoundTrip writes summary.json with and without the simulated
// block and reads it back the ways the package reads summaries.
func TestSimulatedRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		run  *testRun
		want *Simulated // as read back
	}{
		{"real run", fixtureRun(t), nil},
		{"simulated", simulatedRun(t, ""), &Simulated{Model: json.RawMessage(`{"nodes":3,"accept_rate":150,"rtt_ms":{"p50":0.4}}`), WallS: 0.812, SimEvents: 123456}},
		{"calibrated", simulatedRun(t, "results/prod/20261125T150102Z"), &Simulated{Model: json.RawMessage(`{"nodes":3,"accept_rate":150,"rtt_ms":{"p50":0.4}}`),
			CalibratedFrom: "results/prod/20261125T150102Z", WallS: 0.812, SimEvents: 123456}},
		{"no model", bare(&Run{Results: emptyResults(), Simulated: &Simulated{SimEvents: 1}}), &Simulated{Model: json.RawMessage(`null`), SimEvents: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, data := writeFixture(t, tt.run)
			keys := objectKeys(t, data)
			if has := slices.Contains(keys, "simulated"); has != (tt.want != nil) {
				t.Fatalf("summary.json has a simulated key: %v, want %v; keys %q", has, tt.want != nil, keys)
			}
			if tt.want != nil {
				var doc map[string]json.RawMessage
				if err := json.Unmarshal(data, &doc); err != nil {
					t.Fatal(err)
				}
				wantKeys := []string{"model", "wall_s", "sim_events"}
				if tt.want.CalibratedFrom != "" {
					wantKeys = []string{"model", "calibrated_from", "wall_s", "sim_events"}
				}
				if got := objectKeys(t, doc["simulated"]); !slices.Equal(got, wantKeys) {
					t.Errorf("simulated keys %q, want %q", got, wantKeys)
				}
			}
			fromFile, err := ReadSummary(filepath.Join(dir, SummaryFile))
			if err != nil {
				t.Fatal(err)
			}
			fromDir, err := ReadSummaryDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ReadResultSet(dir)
			if err != nil {
				t.Fatal(err)
			}
			for how, s := range map[string]*Summary{"ReadSummary": fromFile, "ReadSummaryDir": fromDir, "ReadResultSet": rs.Summary} {
				got := s.Simulated
				switch {
				case tt.want == nil && got != nil:
					t.Errorf("%s: simulated %+v, want none", how, got)
				case tt.want == nil:
				case got == nil:
					t.Errorf("%s: the simulated block is lost", how)
				case !sameJSON(t, got.Model, tt.want.Model) || got.CalibratedFrom != tt.want.CalibratedFrom || got.WallS != tt.want.WallS || got.SimEvents != tt.want.SimEvents:
					t.Errorf("%s: simulated %+v (model %s), want %+v (model %s)", how, got, got.Model, tt.want, tt.want.Model)
				}
			}
			// --format json writes back what the run wrote.
			var b bytes.Buffer
			if err := fromDir.WriteJSON(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), data) {
				t.Errorf("summary.json read and written again differs:\n%s\nwant\n%s", b.Bytes(), data)
			}
		})
	}
}

func TestSimulatedSharesNothing(t *testing.T) {
	run := simulatedRun(t, "results/prod")
	s := run.summary()
	run.Simulated.Model[2] = 'X'
	run.Simulated.CalibratedFrom = "elsewhere"
	if s.Simulated == run.Simulated || !json.Valid(s.Simulated.Model) || s.Simulated.CalibratedFrom != "results/prod" {
		t.Errorf("summary shares the run's Simulated: %+v (model %s)", s.Simulated, s.Simulated.Model)
	}
}
