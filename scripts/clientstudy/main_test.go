package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/simulate"
)

// simulated simulates the study's profile with 400 clients of library and
// writes the results as `wsstorm simulate` does; it returns their
// directory.
func simulated(t *testing.T, library string) string {
	t.Helper()
	p, err := profile.Load(filepath.Join("..", "..", "profiles", "study", "rolling-1012.toml"),
		[]string{"fleet.clients=400", "fleet.client=" + library})
	if err != nil {
		t.Fatal(err)
	}
	run, err := simulate.Run(context.Background(), p, simulate.DefaultModel(), simulate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "results")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := report.Write(dir, p, run); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The table copies each run's figures from its summary.json, and the chart
// draws one line per library whose shape is the library's first retry:
// socket.io-client's 1000 ms ± 50 % brings nobody back before 500 ms and
// everybody by 1500 ms; phoenix's 10 ms everybody by 100 ms.
func TestStudy(t *testing.T) {
	sio, phx := simulated(t, "socket.io-client@4"), simulated(t, "phoenix@1.8")
	svgPath := filepath.Join(t.TempDir(), "chart.svg")
	var out bytes.Buffer
	err := run([]string{"-svg", svgPath, "socket.io-client@4=" + sio + "," + phx, "phoenix@1.8=" + phx}, &out)
	if err != nil {
		t.Fatal(err)
	}

	s, err := results.ReadSummaryDir(sio)
	if err != nil {
		t.Fatal(err)
	}
	var slowest float64
	for _, e := range s.Events {
		slowest = max(slowest, *e.T99S)
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(rows) != 6 || rows[4] != "" || rows[5] != oneBucketNote {
		t.Fatalf("got %d lines, want a head, a rule, 2 rows, a blank line and the note on ‡:\n%s", len(rows), out.String())
	}
	wantT99 := seconds(&slowest)
	if !strings.HasPrefix(rows[2], "| `socket.io-client@4` |") || !strings.Contains(rows[2], wantT99+" · ") {
		t.Errorf("socket.io-client row %q lacks its slowest t99 %s beside the second run's", rows[2], wantT99)
	}
	// socket.io-client's herd is spread over a second; phoenix's 10 ms
	// brings a node's clients back inside the first 100 ms bucket.
	factor := func(row string) string { return strings.TrimSpace(strings.Split(row, "|")[3]) }
	if sioF, phxF, ok := strings.Cut(factor(rows[2]), " · "); !ok || strings.Contains(sioF, "‡") || phxF != "1.0‡" {
		t.Errorf("socket.io-client row %q: want its own herd factor unmarked and phoenix's beside it 1.0‡", rows[2])
	}
	if f := factor(rows[3]); f != "1.0‡" {
		t.Errorf("phoenix's herd factor is %q, want 1.0‡", f)
	}
	var closed int64
	for _, e := range s.Events {
		closed += e.Affected
	}
	if want := fmt.Sprintf("| 400 · 400 | 0 of %s · ", count(float64(closed))); !strings.Contains(rows[2], want) {
		t.Errorf("socket.io-client row %q lacks %q: 400 connected, every closed client back", rows[2], want)
	}
	if slowest < 0.5 || slowest > 1.5 {
		t.Errorf("socket.io-client's slowest t99 %.3f s is outside its first retry's 0.5–1.5 s", slowest)
	}

	for _, c := range []struct {
		dir                string
		before, everyoneBy float64 // s
	}{{sio, 0.49, 1.55}, {phx, 0.009, 0.1}} {
		rs, err := results.ReadResultSet(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		cv, err := recoveryCurve(rs)
		if err != nil {
			t.Fatal(err)
		}
		for i, at := range cv.at {
			switch {
			case at <= c.before && cv.share[i] != 0:
				t.Errorf("%s: %.3f back at %.4f s, before the first retry", c.dir, cv.share[i], at)
			case at >= c.everyoneBy && cv.share[i] != 1:
				t.Errorf("%s: %.3f back at %.4f s, want all", c.dir, cv.share[i], at)
			}
		}
	}

	data, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Lines []struct {
			Title string `xml:"title"`
		} `xml:"polyline"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the chart is not XML: %v", err)
	}
	if len(doc.Lines) != 2 || doc.Lines[0].Title != "socket.io-client@4" || doc.Lines[1].Title != "phoenix@1.8" {
		t.Errorf("chart lines = %+v, want socket.io-client@4 and phoenix@1.8", doc.Lines)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{nil, {"socket.io-client@4"}, {"x=" + t.TempDir()}} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) gave no error", args)
		}
	}
}

func TestRoundUp(t *testing.T) {
	for v, want := range map[float64]float64{0.9: 1, 1: 1, 1.2: 2, 3: 5, 17.8: 20, 51: 100} {
		if got := roundUp(v); got != want {
			t.Errorf("roundUp(%v) = %v, want %v", v, got, want)
		}
	}
}
