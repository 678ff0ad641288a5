package report

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/results"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results/resultstest"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// pageCharts is the charts' data of a rendered page, as its script reads it.
type pageCharts struct {
	Charts []pageChart
}

// pageChart is one chart of a page's data.
type pageChart struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Steps  bool   `json:"steps"`
	X      []*float64
	Series []struct {
		Label  string
		Dash   bool
		Values []*float64
	}
	Markers []struct {
		X     float64
		Label string
	}
}

var dataBlock = regexp.MustCompile(`(?s)<script type="application/json" id="wsstorm-data">(.*?)</script>`)

// chartsOf extracts and decodes the page's data block.
func chartsOf(t *testing.T, page []byte) pageCharts {
	t.Helper()
	m := dataBlock.FindSubmatch(page)
	if m == nil {
		t.Fatal("the page has no wsstorm-data block")
	}
	var pc pageCharts
	if err := json.Unmarshal(m[1], &pc); err != nil {
		t.Fatalf("the data block is not JSON: %v\n%s", err, m[1])
	}
	return pc
}

func renderDir(t *testing.T, dir string) []byte {
	t.Helper()
	rs, err := results.ReadResultSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, rs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHTMLOnePath checks that the report.html a run writes is, byte for
// byte, the page `wsstorm report DIR --format html` renders from its files.
func TestHTMLOnePath(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  *testRun
	}{
		{"fixture", fixtureRun(t)},
		{"empty interrupted", bare(&results.Run{Results: emptyResults(), Interrupted: true})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := writeFixture(t, tt.run)
			written, err := os.ReadFile(filepath.Join(dir, results.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			if got := renderDir(t, dir); !bytes.Equal(got, written) {
				t.Errorf("report.html (%d bytes) differs from the page rendered from the directory (%d bytes)", len(written), len(got))
			}
		})
	}
}

// TestHTMLSelfContained checks that the page loads nothing: no URL to fetch,
// the library and data inline.
func TestHTMLSelfContained(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	page, err := os.ReadFile(filepath.Join(dir, results.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{` src=`, ` href=`, `@import`, `url(`, `fetch(`, `XMLHttpRequest`, `http://`} {
		if bytes.Contains(page, []byte(banned)) {
			t.Errorf("the page holds %q: it must load nothing", banned)
		}
	}
	// uPlot's banner and licence comment name its home page; nothing else
	// may name a URL.
	if n, home := bytes.Count(page, []byte("https://")), bytes.Count(page, []byte("https://github.com/leeoniya/uPlot")); n != home || home == 0 {
		t.Errorf("the page names %d https:// URLs, %d of them uPlot's home page in its comments; want only those", n, home)
	}
	if !bytes.Contains(page, []byte("Permission is hereby granted")) {
		t.Error("uPlot's MIT licence does not travel with its code")
	}
	for _, want := range []string{"uPlot", "wsstormCharts", `id="chart-connected"`, `id="chart-herd"`, `id="chart-latency"`, `id="chart-recovery"`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestHTMLCharts(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	pc := chartsOf(t, renderDir(t, dir))
	byID := map[string]int{}
	for i, c := range pc.Charts {
		byID[c.ID] = i
		for _, s := range c.Series {
			if len(s.Values) != len(c.X) {
				t.Errorf("%s/%s: %d values for %d x", c.ID, s.Label, len(s.Values), len(c.X))
			}
		}
	}
	if len(pc.Charts) != 4 {
		t.Fatalf("charts %v, want connected, herd, latency and recovery", byID)
	}

	connected := pc.Charts[byID["connected"]]
	if got := len(connected.Series); got != 4 {
		t.Errorf("connected: %d series, want connected and 3 nodes", got)
	}
	if v := connected.Series[1].Values[2]; v != nil {
		t.Errorf("node0 at 10.1 s = %v, want null (not sampled)", *v)
	}
	if len(connected.Markers) != 2 || connected.Markers[0].X != 10 || connected.Markers[1].X != 38 {
		t.Errorf("event markers %+v, want at 10 s and 38 s", connected.Markers)
	}

	herd := pc.Charts[byID["herd"]]
	if got := *herd.Series[0].Values[1]; got != 450 {
		t.Errorf("attempts/s in the second bucket = %v, want 45 per 100 ms = 450", got)
	}

	// A bucket's connected count is at its end; its rates hold from its
	// start to its end, the last x closing the last bucket.
	if got, want := values(connected.X), []float64{0.1, 0.2, 10.2}; connected.Steps || !slices.Equal(got, want) {
		t.Errorf("connected: steps %v, x %v; want lines through the buckets' ends %v", connected.Steps, got, want)
	}
	if got, want := values(herd.X), []float64{0, 0.1, 10.1, 10.2}; !herd.Steps || !slices.Equal(got, want) {
		t.Errorf("herd: steps %v, x %v; want steps from the buckets' starts to the last one's end %v", herd.Steps, got, want)
	}
	if got, want := values(herd.Series[0].Values), []float64{400, 450, 410, 410}; !slices.Equal(got, want) {
		t.Errorf("attempts/s %v, want %v (the last repeated to close its step)", got, want)
	}

	lat := pc.Charts[byID["latency"]]
	if lat.Kind != "percentile" || *lat.X[0] != 1 {
		t.Errorf("latency: kind %s, first x %v; want percentile from x = 1 (0%%)", lat.Kind, *lat.X[0])
	}
	// Reconnect: 1000 values, 1.5 ms up to the 99.8th percentile, then the
	// 4.95 s tail as the maximum at x = 1000.
	if len(lat.Series) != 1 || lat.Series[0].Label != "reconnect" {
		t.Fatalf("latency series %+v, want reconnect only (recovery recorded nothing)", lat.Series)
	}
	rec := lat.Series[0].Values
	if *rec[0] != 1.5 || *lat.X[len(lat.X)-1] != 1000 || *rec[len(rec)-1] != 4952.063 {
		t.Errorf("reconnect curve starts at %v ms, ends at x %v with %v ms; want 1.5 and 1000, 4952.063", *rec[0], *lat.X[len(lat.X)-1], *rec[len(rec)-1])
	}

	recovery := pc.Charts[byID["recovery"]]
	if len(recovery.Series) != 1 {
		t.Fatalf("recovery curves %d, want one (event #1 brought no client back)", len(recovery.Series))
	}
	curve := recovery.Series[0].Values
	if *curve[0] != 0 || *curve[len(curve)-1] != 100 {
		t.Errorf("event #0 curve from %v%% to %v%%, want 0 to 100", *curve[0], *curve[len(curve)-1])
	}
	for i := 1; i < len(curve); i++ {
		if *curve[i] < *curve[i-1] {
			t.Fatalf("recovery curve falls at %d: %v after %v", i, *curve[i], *curve[i-1])
		}
	}
}

// TestHTMLRunEndsInABucket checks that the last bucket, cut short by the
// run's end, ends at the run's end on the charts.
func TestHTMLRunEndsInABucket(t *testing.T) {
	run := fixtureRun(t)
	run.Results.Elapsed = 10*time.Second + 130*time.Millisecond
	dir, _ := writeFixture(t, run)
	for _, c := range chartsOf(t, renderDir(t, dir)).Charts {
		if c.Kind != "time" {
			continue
		}
		if got := *c.X[len(c.X)-1]; got != 10.13 {
			t.Errorf("%s: last x %v, want the run's end 10.13", c.ID, got)
		}
	}
}

// values dereferences a series; null is NaN.
func values(vs []*float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.NaN()
		if v != nil {
			out[i] = *v
		}
	}
	return out
}

// TestHTMLMarkersNameTheAction checks that a chart's marker names the
// event's action: a crash of a node is not labelled a restart.
func TestHTMLMarkersNameTheAction(t *testing.T) {
	run := fixtureRun(t)
	run.Results.Events[0].Action = "crash"
	dir, _ := writeFixture(t, run)
	pc := chartsOf(t, renderDir(t, dir))
	for _, c := range pc.Charts {
		if c.ID != "connected" {
			continue
		}
		if len(c.Markers) == 0 || c.Markers[0].Label != "#0 crash node 0" {
			t.Errorf("markers %+v, want the first labelled #0 crash node 0", c.Markers)
		}
		return
	}
	t.Fatal("no connected chart")
}

// TestHTMLRecoveryShareOfAffected checks that the curve counts a share of
// the affected clients, so it levels off below 100% when some never came back.
func TestHTMLRecoveryShareOfAffected(t *testing.T) {
	run := fixtureRun(t)
	e := &run.Results.Events[0]
	e.Affected, e.NeverReconnected = 1334, 667 // half never came back
	dir, _ := writeFixture(t, run)
	pc := chartsOf(t, renderDir(t, dir))
	for _, c := range pc.Charts {
		if c.ID == "recovery" {
			v := c.Series[0].Values
			if got := *v[len(v)-1]; got != 50 {
				t.Errorf("curve ends at %v%%, want 50%%", got)
			}
			return
		}
	}
	t.Fatal("no recovery chart")
}

// TestHTMLNoData checks that a run with nothing to draw gets notes rather
// than empty charts.
func TestHTMLNoData(t *testing.T) {
	dir, _ := writeFixture(t, bare(&results.Run{Results: emptyResults(), Interrupted: true}))
	page := renderDir(t, dir)
	if pc := chartsOf(t, page); len(pc.Charts) != 0 {
		t.Errorf("%d charts drawn from no data", len(pc.Charts))
	}
	for _, want := range []string{
		"timeseries.csv has no rows",
		"No reconnect or recovery latency was recorded",
		"The run had no chaos events.",
		"INTERRUPTED",
		"no profile.toml",
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page lacks the note %q", want)
		}
	}
	if bytes.Contains(page, []byte(`class="chart"`)) {
		t.Error("the page has a chart element with nothing to draw")
	}
}

// TestHTMLDownsample checks that a long run's charts keep at most
// maxChartPoints points, and that the highest rate and the lowest level
// survive.
func TestHTMLDownsample(t *testing.T) {
	run := fixtureRun(t)
	const rows = 10_007
	res := run.Results
	res.Series = make([]stats.Bucket, rows)
	for i := range res.Series {
		res.Series[i] = stats.Bucket{Start: time.Duration(i) * 100 * time.Millisecond, Connected: 2000, Attempts: 1,
			Closes: []int64{0, 0}, Gauges: []int64{667, 667, 666}}
	}
	res.Series[4321].Attempts = 900 // one bucket's peak
	res.Series[8765].Connected = 3  // one bucket's dip
	res.Elapsed = rows * 100 * time.Millisecond
	dir, _ := writeFixture(t, run)
	page := renderDir(t, dir)
	for _, c := range chartsOf(t, page).Charts {
		if c.Kind == "time" && (len(c.X) > maxChartPoints || len(c.X) < maxChartPoints/2) {
			t.Errorf("%s: %d points, want at most %d and not far fewer", c.ID, len(c.X), maxChartPoints)
		}
		var peak, dip float64 = 0, math.Inf(1)
		for _, v := range c.Series[0].Values {
			peak, dip = math.Max(peak, *v), math.Min(dip, *v)
		}
		switch c.ID {
		case "herd":
			if peak != 9000 {
				t.Errorf("herd peak %v/s, want 9000/s (900 in one 100 ms bucket)", peak)
			}
		case "connected":
			if dip != 3 {
				t.Errorf("connected dip %v, want 3", dip)
			}
		}
	}
	if !bytes.Contains(page, []byte("so no peak is hidden")) {
		t.Error("the page does not say the herd chart is downsampled")
	}
}

// TestHTMLHostileStrings checks that text from the profile or a summary —
// a chaos step's reason, a path, a threshold — cannot end the page's script
// elements or add markup.
func TestHTMLHostileStrings(t *testing.T) {
	const hostile = `</script><script>alert(1)</script>`
	run := fixtureRun(t)
	run.Profile.Name = "x" + hostile
	run.Profile.Path = "/tmp/" + hostile + ".toml"
	run.Profile.Overrides = []string{"chaos.0.reason=" + hostile}
	run.Profile.Chaos = append(run.Profile.Chaos, stepWithReason(hostile))
	dir, _ := writeFixture(t, run)

	// A summary edited by hand, or by a newer version, reaches the page too.
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Thresholds = append(s.Thresholds, results.Threshold{Expr: hostile, OK: false})
	s.Events[0].Action = hostile
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.SummaryFile), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for name, page := range map[string][]byte{"rendered": renderDir(t, dir), "written": mustRead(t, filepath.Join(dir, results.HTMLFile))} {
		if bytes.Contains(page, []byte("<script>alert")) {
			t.Errorf("%s: the hostile string reached the page unescaped", name)
		}
		if n := bytes.Count(page, []byte("<script")); n != 3 {
			t.Errorf("%s: %d script elements, want 3 (data, uPlot, the page's)", name, n)
		}
		if n := bytes.Count(page, []byte("</script>")); n != 3 {
			t.Errorf("%s: %d </script>, want 3", name, n)
		}
		if !bytes.Contains(page, []byte("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;")) {
			t.Errorf("%s: the hostile string is not shown as text", name)
		}
		pc := chartsOf(t, page)
		found := false
		for _, c := range pc.Charts {
			for _, m := range c.Markers {
				found = found || strings.Contains(m.Label, hostile)
			}
			for _, s := range c.Series {
				found = found || strings.Contains(s.Label, hostile)
			}
		}
		if name == "rendered" && !found {
			t.Errorf("%s: the event's label lost the text in the data block", name)
		}
	}
}

func stepWithReason(reason string) profile.ChaosStep {
	s := profile.StepDefaults("close")
	s.At = 20 * time.Second
	s.Params.(*action.CloseParams).Reason = reason
	return s
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHTMLHooks: the page lists each restart hook's run, a failed one
// marked, and its output shown as text.
func TestHTMLHooks(t *testing.T) {
	run := fixtureRun(t)
	exit := 7
	run.Hooks = map[int]*results.HookResult{0: {
		Node: 0, Name: "web-0", Kind: "command", Command: []string{"kubectl", "rollout", "restart", "deploy/web"},
		ExitStatus: &exit, DurationS: 1.25, Output: "<b>boom</b>", Error: "kubectl exited with status 7",
	}}
	dir, _ := writeFixture(t, run)
	page := mustRead(t, filepath.Join(dir, results.HTMLFile))
	for _, want := range []string{
		"<h3>Restart hooks</h3>",
		"<code>kubectl rollout restart deploy/web</code>",
		"exit 7",
		"1.25 s",
		"FAILED: kubectl exited with status 7",
		"&lt;b&gt;boom&lt;/b&gt;",
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if s, _ := results.ReadSummary(dir); s == nil || !s.Events[0].Failed || s.Passed {
		t.Errorf("a failed hook must fail its event and the run: %+v", s)
	}
}

// TestHTMLFromTruncatedResults cuts each results file at many points: a
// result set that reads must render, never fail or panic.
func TestHTMLFromTruncatedResults(t *testing.T) {
	for _, name := range []string{results.TimeseriesFile, results.HistogramsFile} {
		dir, _ := writeFixture(t, fixtureRun(t))
		path := filepath.Join(dir, name)
		whole := mustRead(t, path)
		step := max(1, len(whole)/31)
		for n := 0; n < len(whole); n += step {
			if err := os.WriteFile(path, whole[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			rs, err := results.ReadResultSet(dir)
			if err != nil {
				continue
			}
			if err := WriteHTML(io.Discard, rs); err != nil {
				t.Errorf("%s cut at %d: read, then the page failed: %v", name, n, err)
			}
		}
	}
}

// TestHTMLGenerator checks what the page says of the load generator: a
// banner by the verdict when it shaped the run, the intended herd on the
// herd chart, the intended peak and the dial lag against its bound in the
// events table, and each mean reconnect taken apart.
func TestHTMLGenerator(t *testing.T) {
	dir, _ := writeFixture(t, limitedRun(t))
	page := string(renderDir(t, dir))
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	banner := `<p class="warning generator" id="generator-limited"><strong>Generator-limited:</strong> ` + template.HTMLEscapeString(GeneratorWarning(s)) + `.</p>`
	if !strings.Contains(page, banner) {
		t.Errorf("the page lacks the banner\n%s", banner)
	}
	if i, j := strings.Index(page, `id="generator-limited"`), strings.Index(page, `<main>`); i > j {
		t.Error("the banner is not in the page's head, by the verdict")
	}
	for _, want := range []string{
		// The events table: peak 412/s achieved, 6070/s intended, then the
		// dial lag p99 past its bound, marked.
		`<th class="num">peak/s</th><th class="num">intended/s</th><th class="num">dial lag p99</th>`,
		`<td class="num">412</td><td class="num">6070</td><td class="num limited">9.50 ms (bound 5.00) GENERATOR-LIMITED (dial lag)</td>`,
		// Event #1 closed its clients for good: no attempt, no lag.
		`<td class="num">0</td><td class="num">-</td><td class="num">-</td>`,
		// The run's mean reconnect and event #0's, taken apart; each sums
		// its parts.
		"<h3>Reconnects taken apart</h3>",
		`<tr><th scope="row">the run</th><td class="num">998</td><td class="num">1.2</td><td class="num">0.150</td><td class="num">0.000</td><td class="num">0.150</td><td class="num">1.5</td></tr>`,
		`<tr><th scope="row">#0 rolling_restart node 0</th><td class="num">667</td><td class="num">2900.0</td><td class="num">4.0</td><td class="num">1.1</td><td class="num">1.5</td><td class="num">2906.6</td></tr>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks\n%s", want)
		}
	}
	if strings.Contains(page, `#1 close all nodes</th>`) {
		t.Error("event #1, which had no reconnect, has a breakdown row")
	}

	herd := chartByID(t, chartsOf(t, []byte(page)), "herd")
	last := herd.Series[len(herd.Series)-1]
	if last.Label != "intended attempts/s" || !last.Dash {
		t.Fatalf("herd series %q (dashed %v), want the intended attempts last, dashed", last.Label, last.Dash)
	}
	if got, want := values(last.Values), []float64{400, 430, 600, 600}; !slices.Equal(got, want) {
		t.Errorf("intended attempts/s %v, want %v (intended_attempts per 100 ms × 10, the last repeated)", got, want)
	}

	// The same run, its generator within bounds: no banner, no mark.
	dir, _ = writeFixture(t, fixtureRun(t))
	page = string(renderDir(t, dir))
	if strings.Contains(page, `id="generator-limited"`) || strings.Contains(page, "limited\">") {
		t.Error("a run the generator did not shape is marked generator-limited")
	}
	if !strings.Contains(page, `<td class="num">9.50 ms (bound 247.50)</td>`) {
		t.Error("the dial lag p99 within its bound is not shown against it")
	}
}

// chartByID is the page's chart id.
func chartByID(t *testing.T, pc pageCharts, id string) pageChart {
	t.Helper()
	for _, c := range pc.Charts {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no %s chart", id)
	panic("unreachable")
}

// olderResults makes the results in dir look written by a wsstorm before
// the generator's figures: summary.json without their fields,
// timeseries.csv without intended_attempts and the CPU columns, histograms.hlog without the
// dial lag.
func olderResults(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, results.SummaryFile)
	var doc map[string]any
	if err := json.Unmarshal(mustRead(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "reconnect_breakdown")
	delete(doc, "generator_limited")
	delete(doc["latency_ms"].(map[string]any), "dial_lag")
	for _, e := range doc["events"].([]any) {
		for _, k := range []string{"first_attempts", "intended_peak_attempt_rate", "dial_lag_ms", "dial_lag_bound_ms", "generator_limited", "reconnect_breakdown"} {
			delete(e.(map[string]any), k)
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	path = filepath.Join(dir, results.TimeseriesFile)
	var csv strings.Builder
	for _, line := range strings.SplitAfter(string(mustRead(t, path)), "\n") {
		// intended_attempts, generator_cpu_pct and machine_cpu_pct, the
		// last columns.
		cells := strings.Split(strings.TrimSuffix(line, "\n"), ",")
		if len(cells) > 3 {
			cells = cells[:len(cells)-3]
		}
		csv.WriteString(strings.Join(cells, ","))
		if strings.HasSuffix(line, "\n") {
			csv.WriteString("\n")
		}
	}
	if !strings.HasPrefix(csv.String(), "t_s,connected,attempts,connects,failures,closes_1000,") || strings.Contains(csv.String(), results.IntendedColumn) {
		t.Fatalf("timeseries.csv without its intended_attempts and CPU columns:\n%s", csv.String())
	}
	path2 := filepath.Join(dir, results.HistogramsFile)
	var hlog strings.Builder
	for _, line := range strings.SplitAfter(string(mustRead(t, path2)), "\n") {
		if !strings.Contains(line, "dial_lag,") {
			hlog.WriteString(line)
		}
	}
	for p, data := range map[string]string{path: csv.String(), path2: hlog.String()} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHTMLOlderResults checks that results written before the generator's
// figures render: no banner, no intended line, no breakdown, dashes where
// the figures would be.
func TestHTMLOlderResults(t *testing.T) {
	dir, _ := writeFixture(t, limitedRun(t))
	olderResults(t, dir)
	page := string(renderDir(t, dir))
	for _, unwanted := range []string{`id="generator-limited"`, `limited">`, "Reconnects taken apart"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("the page of older results has %q", unwanted)
		}
	}
	for _, want := range []string{
		`<td class="num">412</td><td class="num">-</td><td class="num">-</td>`,
		"timeseries.csv has no intended_attempts column",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of older results lacks\n%s", want)
		}
	}
	herd := chartByID(t, chartsOf(t, []byte(page)), "herd")
	for _, s := range herd.Series {
		if s.Label == "intended attempts/s" {
			t.Error("an intended line drawn from a time series without it")
		}
	}
	if len(herd.Series) != 3 {
		t.Errorf("herd: %d series, want attempts, connects and failures", len(herd.Series))
	}
}

// TestNotExpectedBackEverywhere: the text, markdown and HTML renderings
// all show a 1000 close's clients as not expected back, in the same words,
// and none counts them as never reconnected.
func TestNotExpectedBackEverywhere(t *testing.T) {
	run := fixtureRun(t)
	dir, _ := writeFixture(t, run)
	page := string(renderDir(t, dir))
	s := summarize(run)
	var text, md strings.Builder
	if err := WriteText(&text, s, ""); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct{ out, cell string }{
		"text":     {text.String(), "not expected back: 200 (1000 ends the session)"},
		"markdown": {md.String(), "| 0 | not expected back: 200 |"},
		"html":     {page, `<td class="num">0</td><td class="num">not expected back: 200</td>`},
	} {
		if !strings.Contains(want.out, want.cell) {
			t.Errorf("%s lacks %q", name, want.cell)
		}
		if strings.Contains(want.out, "never reconnected 200") || strings.Contains(want.out, "| 200 | - |") {
			t.Errorf("%s counts the 1000 close's clients as never reconnected", name)
		}
	}
	if !strings.Contains(page, "never_reconnected threshold counts") {
		t.Error("the page does not say what never_reconnected counts")
	}
}

// TestHTMLRecoveryCoincides: when recovery is drawn on reconnect (the
// first message comes with the handshake), the chart's legend and a note
// under it say so; when the two differ, neither does.
func TestHTMLRecoveryCoincides(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recovery map[int64]int64 // µs → count
		same     bool
	}{
		{"with the handshake", map[int64]int64{1500: 998, 4_950_000: 2}, true},
		{"half a second later", map[int64]int64{1500: 500, 900_000: 498, 4_950_000: 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := fixtureRun(t)
			run.Results.Histograms[stats.Recovery] = resultstest.Histogram(t, tc.recovery)
			dir, _ := writeFixture(t, run)
			page := renderDir(t, dir)
			lat := chartByID(t, chartsOf(t, page), "latency")
			var labels []string
			for _, s := range lat.Series {
				labels = append(labels, s.Label)
			}
			want := []string{"reconnect", "recovery"}
			if tc.same {
				want[1] = "recovery (coincides with reconnect)"
			}
			if !slices.Equal(labels, want) {
				t.Errorf("latency chart's legend %q, want %q", labels, want)
			}
			note := bytes.Contains(page, []byte(`<p class="note">Recovery coincides with reconnect:`))
			if note != tc.same {
				t.Errorf("note that recovery coincides: %v, want %v", note, tc.same)
			}
		})
	}
}
