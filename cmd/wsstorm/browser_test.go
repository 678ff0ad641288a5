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

	"github.com/wsstorm/wsstorm/internal/report"
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

// TestReportHTMLInChromium opens the report.html of real runs in headless
// Chromium, from a file:// URL, and checks what a user would see: every
// chart drawn with data, no error on the console, nothing fetched, and a
// hostile chaos reason shown as text rather than run. It saves a full-page
// screenshot in the test's temporary directory, and copies it to
// $WSSTORM_SCREENSHOT_DIR when that is set.
func TestReportHTMLInChromium(t *testing.T) {
	browser := browserPath(t)
	const hostile = `</script><script>alert(1)</script>`
	tests := []struct {
		name   string
		args   []string
		exit   int
		charts []string
	}{
		{"storm", append(slices.Clone(small), "--set", "chaos.0.reason="+hostile), exitPassed,
			[]string{"connected", "herd", "latency", "recovery"}},
		// No chaos: no reconnects, no recovery curve, and the default
		// profile's events.t100 threshold fails for want of events.
		{"no chaos", []string{"--set", "duration=2s", "--set", "fleet.ramp=300ms", "--set", "fleet.clients=50", "--set", "chaos=[]"}, exitFailed,
			[]string{"connected", "herd"}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "results")
			if code, _, stderr := wsstorm(t, append([]string{"run", "--out", dir}, tt.args...)...); code != tt.exit {
				t.Fatalf("run: exit %d, want %d\n%s", code, tt.exit, stderr)
			}
			shot := openInBrowser(t, browser, filepath.Join(dir, report.HTMLFile), tt.charts)
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

// openInBrowser loads the page, waits until it says it has rendered, checks
// it, and returns a full-page PNG screenshot.
func openInBrowser(t *testing.T, browser, file string, wantCharts []string) []byte {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
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
	defer cancelAlloc()

	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	var tab context.Context
	listener := func(ev any) {
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
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithListener(listener))
	defer cancelTab()

	if err := chromedp.Do(tab,
		chromedp.Navigate("file://"+filepath.ToSlash(abs)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-rendered="true"]`)),
	); err != nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the page did not finish rendering: %v (problems: %q)", err, problems)
	}
	charts, err := chromedp.Run(tab, chromedp.Evaluate[[]renderedChart](`(window.wsstormCharts || []).map(function (c) {
		var canvas = document.querySelector("#chart-" + c.id + " canvas");
		return {id: c.id, points: c.points, canvas_width: canvas ? canvas.width : 0, canvas_height: canvas ? canvas.height : 0};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	placed, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll("[data-chart]"), function (e) { return e.dataset.chart; })`))
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(function (e) { return e.name; })`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	for _, p := range problems {
		t.Errorf("page problem: %s", p)
	}
	mu.Unlock()
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
	for _, id := range wantCharts {
		c, ok := drawn[id]
		switch {
		case !ok:
			t.Errorf("chart %s was not drawn", id)
		case c.Points == 0:
			t.Errorf("chart %s was drawn with no data", id)
		case c.CanvasWidth == 0 || c.CanvasHeight == 0:
			t.Errorf("chart %s has a canvas of %dx%d", id, c.CanvasWidth, c.CanvasHeight)
		default:
			t.Logf("chart %s: %d points on a %dx%d canvas", id, c.Points, c.CanvasWidth, c.CanvasHeight)
		}
	}
	return shot
}
