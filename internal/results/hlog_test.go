package results

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// readLog reads every interval histogram of an .hlog file with
// hdrhistogram-go's reader, in file order.
func readLog(t *testing.T, path string) []*hdrhistogram.Histogram {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := hdrhistogram.NewHistogramLogReader(bytes.NewReader(data))
	var out []*hdrhistogram.Histogram
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if h == nil {
			return out
		}
		out = append(out, h)
	}
}

// TestHistogramLogMatchesSummary is an acceptance test: histograms.hlog, read
// back with hdrhistogram-go's reader, holds one interval per metric, tagged
// with its name, whose count and percentiles equal summary.json's.
func TestHistogramLogMatchesSummary(t *testing.T) {
	starts := []struct {
		name    string
		started time.Time
	}{
		{"fixture", fixtureStart},
		{"whole second", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"last millisecond of a second", time.Date(2026, 1, 2, 3, 4, 5, 999_000_000, time.UTC)},
		{"local zone", time.Date(2026, 6, 30, 23, 59, 59, 1_000_000, time.FixedZone("X", -7*3600))},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			run := fixtureRun(t)
			run.Results.Started = st.started
			dir, _ := writeFixture(t, run)

			s, err := ReadSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			logged := readLog(t, filepath.Join(dir, HistogramsFile))

			var tags, want []string
			for _, h := range logged {
				tags = append(tags, h.Tag())
			}
			for _, m := range stats.Metrics {
				want = append(want, m.String())
			}
			at := map[int]int{} // event → its reconnect_at interval
			for _, e := range run.Results.Events {
				at[e.Index] = len(want)
				want = append(want, EventTag(e.Index))
				if e.DialLag != nil {
					want = append(want, LagTag(e.Index))
				}
			}
			if !slices.Equal(tags, want) {
				t.Fatalf("tags %q, want %q (one per metric, then per event its reconnects and its dial lag, in order)", tags, want)
			}
			for _, e := range run.Results.Events {
				h := logged[at[e.Index]]
				if !h.Equals(e.ReconnectAt) || h.TotalCount() != e.Reconnected {
					t.Errorf("event %d: hlog has %d reconnects, run %d, or the histograms differ", e.Index, h.TotalCount(), e.Reconnected)
				}
			}

			startMs := st.started.UnixMilli()
			endMs := startMs + run.Results.Elapsed.Milliseconds()
			for i, m := range stats.Metrics {
				h := logged[i]
				ls := s.LatencyMS.Of(m)
				t.Run(m.String(), func(t *testing.T) {
					if h.TotalCount() != ls.Count {
						t.Errorf("count: hlog %d, summary %d", h.TotalCount(), ls.Count)
					}
					if !h.Equals(run.Results.Histogram(m)) {
						t.Error("hlog histogram differs from the recorded one")
					}
					if h.StartTimeMs() != startMs {
						t.Errorf("start: hlog %d ms, run %d ms", h.StartTimeMs(), startMs)
					}
					// The reader truncates seconds×1000 to an integer, so an end
					// time can come back one millisecond early.
					if d := endMs - h.EndTimeMs(); d < 0 || d > 1 {
						t.Errorf("end: hlog %d ms, run %d ms", h.EndTimeMs(), endMs)
					}
					fields := []struct {
						name    string
						summary *float64
						hlog    int64
					}{
						{"p50", ls.P50, h.ValueAtQuantile(50)},
						{"p90", ls.P90, h.ValueAtQuantile(90)},
						{"p99", ls.P99, h.ValueAtQuantile(99)},
						{"p999", ls.P999, h.ValueAtQuantile(99.9)},
						{"max", ls.Max, h.Max()},
						{"min", ls.Min, h.Min()},
					}
					for _, f := range fields {
						switch {
						case ls.Count == 0 && f.summary != nil:
							t.Errorf("%s: summary %v for an empty histogram, want null", f.name, *f.summary)
						case ls.Count == 0:
						case f.summary == nil:
							t.Errorf("%s: summary null, hlog %d µs", f.name, f.hlog)
						case *f.summary != MicrosToMillis(f.hlog):
							t.Errorf("%s: summary %v ms, hlog %v ms", f.name, *f.summary, MicrosToMillis(f.hlog))
						}
					}
					if ls.Count > 0 && *ls.Mean != Round(h.Mean()/1000, 3) {
						t.Errorf("mean: summary %v ms, hlog %v ms", *ls.Mean, h.Mean()/1000)
					}
				})
			}
			for _, m := range stats.Metrics {
				if h := run.Results.Histogram(m); h.Tag() != "" || h.StartTimeMs() != 0 || h.EndTimeMs() != 0 {
					t.Errorf("%s: Write changed the run's histogram (tag %q, start %d, end %d)", m, h.Tag(), h.StartTimeMs(), h.EndTimeMs())
				}
			}
		})
	}
}

func TestHistogramLogHeader(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	data, err := os.ReadFile(filepath.Join(dir, HistogramsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	want := []string{
		"#[Histogram log format version 1.3]",
		"#[StartTime: 1795618862 (seconds since epoch), 2026-11-25T15:01:02Z]",
		"#[BaseTime: 1795618862 (seconds since epoch)]",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}
	// Intervals are relative to BaseTime: the start's fraction of a second,
	// then the run's length.
	if !strings.HasPrefix(lines[5], "Tag=connect,0.123000,45.012000,") {
		t.Errorf("first interval line = %q", lines[5])
	}
}

// TestHistogramLogNilHistograms checks that a run whose histograms were never
// created still logs every metric, as empty intervals.
func TestHistogramLogNilHistograms(t *testing.T) {
	dir, _ := writeFixture(t, bare(&Run{Results: emptyResults(), Interrupted: true}))
	logged := readLog(t, filepath.Join(dir, HistogramsFile))
	if len(logged) != len(stats.Metrics) {
		t.Fatalf("%d intervals, want %d", len(logged), len(stats.Metrics))
	}
	for i, m := range stats.Metrics {
		if logged[i].Tag() != m.String() || logged[i].TotalCount() != 0 {
			t.Errorf("interval %d: tag %q count %d, want %q and 0", i, logged[i].Tag(), logged[i].TotalCount(), m)
		}
	}
}
