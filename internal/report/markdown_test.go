package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// TestMarkdownGolden checks the markdown `wsstorm report --format markdown`
// writes for a pull-request comment or a wiki page. Run with -args -update
// to rewrite testdata/summary.md after an intended change.
func TestMarkdownGolden(t *testing.T) {
	s := summarize(fixtureRun(t))
	s.Profile.Overrides = []string{"fleet.clients=2000", "chaos.0.reason=a|b"}
	s.Thresholds = append(s.Thresholds, results.Threshold{Expr: "events.t99 < 4s", Value: f64(4950), Unit: "ms", OK: false})
	s.Passed = false
	var b bytes.Buffer
	if err := WriteMarkdown(&b, s); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "summary.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report/ -run Golden -args -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("markdown differs from %s:\n%s", golden, b.String())
	}
}

func TestMarkdownEscapes(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"a|b", "`a\\|b`"},
		{"x`y", "``x`y``"},
		{"`x", "`` `x ``"},
		{"two\nlines", "`two lines`"},
	} {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := mdText("<b>|"); got != `&lt;b&gt;\|` {
		t.Errorf("mdText = %q", got)
	}
}

func TestMarkdownEmpty(t *testing.T) {
	var b strings.Builder
	if err := WriteMarkdown(&b, summarize(bare(&results.Run{Results: emptyResults(), Interrupted: true}))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "### wsstorm: (unnamed) — **INTERRUPTED (not passed)**\n") {
		t.Errorf("headline:\n%s", out)
	}
	if strings.Contains(out, "Chaos events") || strings.Contains(out, "Thresholds") {
		t.Errorf("empty sections written:\n%s", out)
	}
}

// TestWriteJSON checks that --format json is summary.json as the run wrote it.
func TestWriteJSON(t *testing.T) {
	dir, written := writeFixture(t, fixtureRun(t))
	s, err := results.ReadSummaryDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), written) {
		var got, want any
		_ = json.Unmarshal(b.Bytes(), &got)
		_ = json.Unmarshal(written, &want)
		t.Errorf("JSON differs from summary.json (same content: %v)", reflect.DeepEqual(got, want))
	}
}

// TestMarkdownGenerator checks that a run its load generator shaped says so
// right under the headline, before any number.
func TestMarkdownGenerator(t *testing.T) {
	s := summarize(limitedRun(t))
	var b strings.Builder
	if err := WriteMarkdown(&b, s); err != nil {
		t.Fatal(err)
	}
	want := "### wsstorm: default — " + verdict(s) + "\n\n**Generator-limited:** " + GeneratorWarning(s) + ".\n\n2000 clients,"
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("markdown starts\n%s\nwant\n%s", b.String()[:min(len(want)+80, b.Len())], want)
	}
}

// TestMarkdownOlderResults renders a summary.json written before the
// generator's figures: no warning, no breakdown, "-" for the intended peak.
func TestMarkdownOlderResults(t *testing.T) {
	dir, _ := writeFixture(t, limitedRun(t))
	olderResults(t, dir)
	s, err := results.ReadSummaryDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "Generator-limited") || strings.Contains(out, "Mean reconnect") {
		t.Errorf("older results get the generator's figures:\n%s", out)
	}
	if !strings.Contains(out, "| 412 | - | ×2.1 |") {
		t.Errorf("event #0's intended peak is not \"-\":\n%s", out)
	}
}

// TestMarkdownScaleOverride: a scaled run's scale is written as the flag
// that gave it, after the --set overrides.
func TestMarkdownScaleOverride(t *testing.T) {
	s := summarize(fixtureRun(t))
	s.Profile.Overrides, s.Profile.Scale = []string{"fleet.clients=5"}, "1/2"
	var b bytes.Buffer
	if err := WriteMarkdown(&b, s); err != nil {
		t.Fatal(err)
	}
	if want := ", with `--set fleet.clients=5`, `--scale 1/2`\n"; !strings.Contains(b.String(), want) {
		t.Errorf("markdown does not have %q:\n%s", want, b.String())
	}
}
