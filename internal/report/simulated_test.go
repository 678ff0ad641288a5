package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// simulatedRun is the fixture run as wsstorm simulate would hand it over.
func simulatedRun(t *testing.T, calibratedFrom string) *Run {
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
		run  *Run
		want *Simulated // as read back
	}{
		{"real run", fixtureRun(t), nil},
		{"simulated", simulatedRun(t, ""), &Simulated{Model: json.RawMessage(`{"nodes":3,"accept_rate":150,"rtt_ms":{"p50":0.4}}`), WallS: 0.812, SimEvents: 123456}},
		{"calibrated", simulatedRun(t, "results/prod/20261125T150102Z"), &Simulated{Model: json.RawMessage(`{"nodes":3,"accept_rate":150,"rtt_ms":{"p50":0.4}}`),
			CalibratedFrom: "results/prod/20261125T150102Z", WallS: 0.812, SimEvents: 123456}},
		{"no model", &Run{Results: emptyResults(), Simulated: &Simulated{SimEvents: 1}}, &Simulated{Model: json.RawMessage(`null`), SimEvents: 1}},
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
			if err := WriteJSON(&b, fromDir); err != nil {
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
	s := BuildSummary(run)
	run.Simulated.Model[2] = 'X'
	run.Simulated.CalibratedFrom = "elsewhere"
	if s.Simulated == run.Simulated || !json.Valid(s.Simulated.Model) || s.Simulated.CalibratedFrom != "results/prod" {
		t.Errorf("summary shares the run's Simulated: %+v (model %s)", s.Simulated, s.Simulated.Model)
	}
}

// TestSimulatedMarking checks that the text and markdown summaries and the
// HTML page say near the top that simulated results are simulated, and
// that a real run's say nothing of it.
func TestSimulatedMarking(t *testing.T) {
	const calibrated = "results/prod <b>|x</b>/20261125T150102Z"
	tests := []struct {
		name string
		run  func(t *testing.T) *Run
		// Per rendering, the line that marks the results (a prefix of a
		// line in HTML); "" for none.
		text, markdown, html string
	}{
		{name: "real run", run: func(t *testing.T) *Run { return fixtureRun(t) }},
		{
			name:     "simulated",
			run:      func(t *testing.T) *Run { return simulatedRun(t, "") },
			text:     "simulated: no sockets; target and network modeled",
			markdown: "**Simulated:** no sockets; target and network modeled.",
			html:     `<p class="simulated"><strong>Simulated:</strong> no sockets; target and network modeled.</p>`,
		},
		{
			name:     "calibrated",
			run:      func(t *testing.T) *Run { return simulatedRun(t, calibrated) },
			text:     "simulated: no sockets; target and network modeled (calibrated from " + calibrated + ")",
			markdown: "**Simulated:** no sockets; target and network modeled (calibrated from `results/prod <b>\\|x</b>/20261125T150102Z`).",
			html:     `<p class="simulated"><strong>Simulated:</strong> no sockets; target and network modeled (calibrated from results/prod &lt;b&gt;|x&lt;/b&gt;/20261125T150102Z).</p>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := writeFixture(t, tt.run(t))
			s, err := ReadSummaryDir(dir)
			if err != nil {
				t.Fatal(err)
			}

			var text, md strings.Builder
			if err := WriteText(&text, s, dir); err != nil {
				t.Fatal(err)
			}
			if err := WriteMarkdown(&md, s); err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
			if err != nil {
				t.Fatal(err)
			}

			// Text: the line after the headline.
			lines := strings.Split(text.String(), "\n")
			if tt.text != "" && lines[1] != tt.text {
				t.Errorf("text: second line %q, want %q", lines[1], tt.text)
			}
			if tt.text == "" && strings.Contains(text.String(), "simulated") {
				t.Errorf("text of a real run mentions simulation:\n%s", text.String())
			}

			// Markdown: the paragraph after the headline.
			paras := strings.Split(md.String(), "\n\n")
			if tt.markdown != "" && paras[1] != tt.markdown {
				t.Errorf("markdown: second paragraph %q, want %q", paras[1], tt.markdown)
			}
			if tt.markdown == "" && strings.Contains(strings.ToLower(md.String()), "simulated") {
				t.Errorf("markdown of a real run mentions simulation:\n%s", md.String())
			}

			// HTML: in the header, right under the headline, and in the title.
			h := string(page)
			header, _, _ := strings.Cut(h, "</header>")
			_, header, _ = strings.Cut(header, "</h1>")
			if tt.html != "" {
				if !strings.HasPrefix(strings.TrimSpace(header), tt.html) {
					t.Errorf("HTML: the header under the headline starts\n%.300s\nwant %s", strings.TrimSpace(header), tt.html)
				}
				if !strings.Contains(h, " (simulated)</title>") {
					t.Error("HTML: the title does not say simulated")
				}
			}
			if tt.html == "" && (strings.Contains(h, `class="simulated"`) || strings.Contains(h, "(simulated)")) {
				t.Error("HTML of a real run is marked simulated")
			}
		})
	}
}
