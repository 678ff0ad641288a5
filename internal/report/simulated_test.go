package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// simulatedRun is the fixture run as wsstorm simulate would hand it over.
func simulatedRun(t *testing.T, calibratedFrom string) *testRun {
	t.Helper()
	run := fixtureRun(t)
	run.Simulated = &results.Simulated{
		Model:          json.RawMessage(`{"nodes":3,"accept_rate":150,"rtt_ms":{"p50":0.4}}`),
		CalibratedFrom: calibratedFrom,
		WallS:          0.81234,
		SimEvents:      123456,
	}
	return run
}

// TestSimulatedMarking checks that the text and markdown summaries and the
// HTML page say near the top that simulated results are simulated, and
// that a real run's say nothing of it.
func TestSimulatedMarking(t *testing.T) {
	const calibrated = "results/prod <b>|x</b>/20261125T150102Z"
	tests := []struct {
		name string
		run  func(t *testing.T) *testRun
		// Per rendering, the line that marks the results (a prefix of a
		// line in HTML); "" for none.
		text, markdown, html string
	}{
		{name: "real run", run: func(t *testing.T) *testRun { return fixtureRun(t) }},
		{
			name:     "simulated",
			run:      func(t *testing.T) *testRun { return simulatedRun(t, "") },
			text:     "simulated: no sockets; target and network modeled",
			markdown: "**Simulated:** no sockets; target and network modeled.",
			html:     `<p class="simulated"><strong>Simulated:</strong> no sockets; target and network modeled.</p>`,
		},
		{
			name:     "calibrated",
			run:      func(t *testing.T) *testRun { return simulatedRun(t, calibrated) },
			text:     "simulated: no sockets; target and network modeled (calibrated from " + calibrated + ")",
			markdown: "**Simulated:** no sockets; target and network modeled (calibrated from `results/prod <b>\\|x</b>/20261125T150102Z`).",
			html:     `<p class="simulated"><strong>Simulated:</strong> no sockets; target and network modeled (calibrated from results/prod &lt;b&gt;|x&lt;/b&gt;/20261125T150102Z).</p>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := writeFixture(t, tt.run(t))
			s, err := results.ReadSummaryDir(dir)
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
			page, err := os.ReadFile(filepath.Join(dir, results.HTMLFile))
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
