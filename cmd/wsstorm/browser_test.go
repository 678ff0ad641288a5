package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/sweep"
)

// browserPath finds Chromium or Chrome. Without one the test is skipped,
// unless WSSTORM_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium),
// where it fails.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium or Chrome found (chromium, chromium-browser, google-chrome): install one, e.g. apt-get install chromium"
	if os.Getenv("WSSTORM_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (WSSTORM_REQUIRE_BROWSER=1)")
	}
	t.Skip(msg)
	return ""
}

// renderedChart is what the page reports of a chart it drew.
type renderedChart struct {
	ID           string `json:"id"`
	Points       int    `json:"points"`
	CanvasWidth  int    `json:"canvas_width"`
	CanvasHeight int    `json:"canvas_height"`
}

// chartPixels is what a chart's canvas holds: for each series of the
// chart's data, the pixels drawn in its colour.
type chartPixels struct {
	ID     string   `json:"id"`
	Series []string `json:"series"`
	Pixels []int    `json:"pixels"`
}

// countPixels reads each chart's colours from the page's data block and
// counts, on the chart's canvas, the opaque pixels of each colour (within a
// little, for antialiasing). It reads the canvas, not what the page's
// script says it drew.
const countPixels = `(function () {
	var data = JSON.parse(document.getElementById("wsstorm-data").textContent);
	return data.charts.map(function (c) {
		var rgb = c.series.map(function (s) {
			return [1, 3, 5].map(function (i) { return parseInt(s.color.slice(i, i + 2), 16); });
		});
		var pixels = c.series.map(function () { return 0; });
		var canvas = document.querySelector("#chart-" + c.id + " canvas");
		if (canvas && canvas.width > 0 && canvas.height > 0) {
			var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
			for (var i = 0; i < px.length; i += 4) {
				if (px[i + 3] < 160) {
					continue;
				}
				for (var k = 0; k < rgb.length; k++) {
					if (Math.abs(px[i] - rgb[k][0]) <= 24 && Math.abs(px[i + 1] - rgb[k][1]) <= 24 && Math.abs(px[i + 2] - rgb[k][2]) <= 24) {
						pixels[k]++;
						break;
					}
				}
			}
		}
		return {id: c.id, series: c.series.map(function (s) { return s.label; }), pixels: pixels};
	});
})()`

// edgeInk counts, on each chart's canvas, the pixels drawn in its outer
// two columns and rows: where a tick label too long for the room left to
// it is cut off. Nothing is drawn there when every label fits.
const edgeInk = `(function () {
	return Array.prototype.map.call(document.querySelectorAll("[data-chart] canvas"), function (canvas) {
		var w = canvas.width, h = canvas.height, n = 0;
		var px = canvas.getContext("2d").getImageData(0, 0, w, h).data;
		for (var y = 0; y < h; y++) {
			for (var x = 0; x < w; x++) {
				if ((x < 2 || x >= w - 2 || y < 2 || y >= h - 2) && px[(y * w + x) * 4 + 3] > 64) {
					n++;
				}
			}
		}
		return {id: canvas.closest("[data-chart]").dataset.chart, pixels: n};
	});
})()`

// checkEdges fails the test for each chart of the page in tab that draws
// on its canvas's edge (edgeInk).
func checkEdges(t *testing.T, tab context.Context) {
	t.Helper()
	edges, err := chromedp.Run(tab, chromedp.Evaluate[[]struct {
		ID     string `json:"id"`
		Pixels int    `json:"pixels"`
	}](edgeInk))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edges {
		if e.Pixels > 0 {
			t.Errorf("chart %s: %d pixels drawn on its canvas's edge: a tick label is cut off", e.ID, e.Pixels)
		}
	}
}

// minSeriesPixels is how many pixels of its series' colours a chart must
// show: a chart of one point per series shows about 80, an empty one 0.
const minSeriesPixels = 20

// oneReconnect is a run with a single reconnect: one client, closed once
// with 1012, back 200 ms later. Its latency chart has a single x.
const oneReconnect = `
name = "one-reconnect"
duration = "2s"

[target]
mode = "embedded"
nodes = 1
listen = "127.0.0.1:0"

[fleet]
clients = 1
ramp = "100ms"

[fleet.session]
send_interval = "100ms"

[fleet.reconnect]
strategy = "constant"
base = "200ms"

[[chaos]]
at = "1s"
action = "close"
fraction = 1.0
code = 1012
`

// TestReportHTMLInChromium opens the report.html of real runs in headless
// Chromium, from a file:// URL, and checks what a user would see: every
// chart drawn, its canvas showing its series' colours, no error on the
// console, nothing fetched, and a hostile chaos reason shown as text rather
// than run. It saves a full-page screenshot in the test's temporary
// directory, and copies it to $WSSTORM_SCREENSHOT_DIR when that is set.
func TestReportHTMLInChromium(t *testing.T) {
	browser := browserPath(t)
	const hostile = `</script><script>alert(1)</script>`
	tests := []struct {
		name    string
		profile string // TOML of the profile to run; "": the default profile
		args    []string
		exit    int
		charts  []string
		command string   // "": run
		shows   []string // text the page shows, in its charts' legends or notes
	}{
		{"storm", "", append(slices.Clone(small), "--set", "chaos.0.reason="+hostile), exitPassed,
			[]string{"connected", "herd", "latency", "recovery"}, "", nil},
		// No chaos: no reconnects, no recovery curve, and the default
		// profile's events.t100 threshold fails for want of events.
		{"no chaos", "", []string{"--set", "duration=2s", "--set", "fleet.ramp=300ms", "--set", "fleet.clients=50", "--set", "chaos=[]"}, exitFailed,
			[]string{"connected", "herd"}, "", nil},
		// One reconnect: the latency chart is a single point per metric.
		{"one reconnect", oneReconnect, nil, exitPassed,
			[]string{"connected", "herd", "latency", "recovery"}, "", nil},
		// A big simulated fleet: over 10,000 reconnects take the
		// percentile axis to 99.999%, a long last tick at the chart's
		// right edge. Its modeled target's first message comes with the
		// handshake, so recovery lies on reconnect, and the chart says so.
		{"simulated herd", "", []string{"--clients", "20000"}, exitPassed,
			[]string{"connected", "herd", "latency", "recovery"}, "simulate",
			[]string{"recovery (coincides with reconnect)", "Recovery coincides with reconnect: at every percentile"}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "results")
			args := append([]string{"run", "--out", dir, "--quiet"}, tt.args...)
			if tt.command != "" {
				args = append([]string{tt.command, "--out", dir}, tt.args...)
			}
			if tt.profile != "" {
				path := filepath.Join(t.TempDir(), "profile.toml")
				if err := os.WriteFile(path, []byte(tt.profile), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, path)
			}
			if code, _, stderr := wsstorm(t, args...); code != tt.exit {
				t.Fatalf("run: exit %d, want %d\n%s", code, tt.exit, stderr)
			}
			shot := openInBrowser(t, browser, filepath.Join(dir, results.HTMLFile), tt.charts, tt.shows)
			name := "report-" + strings.ReplaceAll(tt.name, " ", "-") + ".png"
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", path)
			if d := os.Getenv("WSSTORM_SCREENSHOT_DIR"); d != "" {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, name), shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot copied to %s", filepath.Join(d, name))
			}
		})
	}
}

// shownLabel is a setting's label as the browser lays it out on sweep.html,
// and the chart's canvas, in CSS pixels of the page.
type shownLabel struct {
	Text    string     `json:"text"`
	Box     [4]float64 `json:"box"`    // left, top, right, bottom
	Canvas  [4]float64 `json:"canvas"` // the same, of the chart's canvas
	Visible bool       `json:"visible"`
}

// TestSweepHTMLInChromium opens the sweep.html of a simulated sweep in
// headless Chromium and checks that the chart shows every setting's label,
// laid out inside the chart, with no problem on the page.
func TestSweepHTMLInChromium(t *testing.T) {
	browser := browserPath(t)
	prof := filepath.Join(t.TempDir(), "sweep.toml")
	if err := os.WriteFile(prof, []byte(sweepProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	windows := []string{"100ms", "300ms", "1500ms", "3s"}
	if code, _, stderr := wsstorm(t, "sweep", prof, "--simulate", "--vary", "fleet.reconnect.max="+strings.Join(windows, ","), "--out", dir, "--quiet"); code != exitPassed {
		t.Fatalf("sweep: exit %d\n%s", code, stderr)
	}
	tab, problems := loadPage(t, browser, filepath.Join(dir, sweep.HTMLFile))
	labels, err := chromedp.Run(tab, chromedp.Evaluate[[]shownLabel](`(function () {
		var box = function (r) { return [r.left, r.top, r.right, r.bottom]; };
		var canvas = document.querySelector("#chart canvas").getBoundingClientRect();
		return Array.prototype.map.call(document.querySelectorAll("#chart .setting-label"), function (e) {
			var style = getComputedStyle(e);
			return {text: e.textContent, box: box(e.getBoundingClientRect()), canvas: box(canvas),
				visible: style.visibility === "visible" && style.display !== "none" && Number(style.opacity) > 0};
		});
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems() {
		t.Errorf("page problem: %s", p)
	}
	var texts []string
	for _, l := range labels {
		texts = append(texts, l.Text)
		b, c := l.Box, l.Canvas
		switch {
		case !l.Visible || b[2]-b[0] < 10 || b[3]-b[1] < 5:
			t.Errorf("label %q is not shown: box %v, visible %v", l.Text, b, l.Visible)
		case b[0] < c[0] || b[1] < c[1] || b[2] > c[2] || b[3] > c[3]:
			t.Errorf("label %q at %v passes the chart's canvas %v", l.Text, b, c)
		}
	}
	slices.Sort(texts)
	var want []string
	for _, w := range windows {
		want = append(want, "max="+w)
	}
	slices.Sort(want)
	if !slices.Equal(texts, want) {
		t.Errorf("the chart labels its points %q, want every setting %q", texts, want)
	}
}

// openInBrowser loads the page, waits until it says it has rendered, checks
// it (its charts, and that it shows each of shows), and returns a
// full-page PNG screenshot.
func openInBrowser(t *testing.T, browser, file string, wantCharts, shows []string) []byte {
	t.Helper()
	tab, problems := loadPage(t, browser, file)
	text, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range shows {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	charts, err := chromedp.Run(tab, chromedp.Evaluate[[]renderedChart](`(window.wsstormCharts || []).map(function (c) {
		var canvas = document.querySelector("#chart-" + c.id + " canvas");
		return {id: c.id, points: c.points, canvas_width: canvas ? canvas.width : 0, canvas_height: canvas ? canvas.height : 0};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	pixels, err := chromedp.Run(tab, chromedp.Evaluate[[]chartPixels](countPixels))
	if err != nil {
		t.Fatal(err)
	}
	placed, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll("[data-chart]"), function (e) { return e.dataset.chart; })`))
	if err != nil {
		t.Fatal(err)
	}
	checkEdges(t, tab)
	fetched, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(function (e) { return e.name; })`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	for _, p := range problems() {
		t.Errorf("page problem: %s", p)
	}
	if len(fetched) > 0 {
		t.Errorf("the page fetched %q: it must need nothing but itself", fetched)
	}
	if !slices.Equal(placed, wantCharts) {
		t.Errorf("the page places charts %q, want %q", placed, wantCharts)
	}
	drawn := map[string]renderedChart{}
	for _, c := range charts {
		drawn[c.ID] = c
	}
	shown := map[string]chartPixels{}
	for _, c := range pixels {
		shown[c.ID] = c
	}
	for _, id := range wantCharts {
		c, ok := drawn[id]
		switch {
		case !ok:
			t.Errorf("chart %s was not drawn", id)
			continue
		case c.Points == 0:
			t.Errorf("chart %s was drawn with no data", id)
		case c.CanvasWidth == 0 || c.CanvasHeight == 0:
			t.Errorf("chart %s has a canvas of %dx%d", id, c.CanvasWidth, c.CanvasHeight)
		}
		// Series may hide one another (nodes with equal connections), so
		// the chart as a whole must show its colours.
		p := shown[id]
		total := 0
		var per []string
		for i, n := range p.Pixels {
			total += n
			per = append(per, fmt.Sprintf("%s %d", p.Series[i], n))
		}
		if total < minSeriesPixels {
			t.Errorf("chart %s shows %d pixels of its series' colours (%s), want at least %d: nothing was drawn",
				id, total, strings.Join(per, ", "), minSeriesPixels)
			continue
		}
		t.Logf("chart %s: %d points on a %dx%d canvas; pixels drawn: %s", id, c.Points, c.CanvasWidth, c.CanvasHeight, strings.Join(per, ", "))
	}
	return shot
}

// loadPage opens file in a headless Chromium tab, from a file:// URL, and
// waits until the page sets body[data-rendered="true"]. problems returns
// what went wrong on the page so far: errors on the console or in the
// browser's log, uncaught exceptions, dialogs opened. The browser ends
// with the test.
func loadPage(t *testing.T, browser, file string) (tab context.Context, problems func() []string) {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these Chromium reaches for the network at start, which a
		// closed network refuses, and the errors reach the log.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)

	var mu sync.Mutex
	var seen []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, fmt.Sprintf(format, args...))
	}
	problems = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) { pageProblem(tab, ev, problem) }))
	t.Cleanup(cancelTab)

	if err := chromedp.Do(tab,
		chromedp.Navigate("file://"+filepath.ToSlash(abs)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-rendered="true"]`)),
	); err != nil {
		t.Fatalf("the page did not finish rendering: %v (problems: %q)", err, problems())
	}
	return tab, problems
}

// pageProblem reports, through problem, an event of the tab that is a
// problem on the page.
func pageProblem(tab context.Context, ev any, problem func(format string, args ...any)) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			problem("console.error: %s", strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := d.Text
		if d.Exception != nil {
			desc += " " + d.Exception.Description
		}
		problem("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, desc)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			problem("browser log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *page.EventJavascriptDialogOpening:
		problem("the page opened a %s dialog: %q", ev.Type, ev.Message)
		// A dialog blocks the page; close it from outside the event loop.
		go chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
	}
}
