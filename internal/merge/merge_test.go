package merge

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/merge/mergetest"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mergeInto merges dirs and writes the result into a new directory.
func mergeInto(t *testing.T, dirs []string) (string, *results.Summary) {
	t.Helper()
	run, p, err := Dirs(dirs)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "merged")
	sum, err := report.Write(out, p, run)
	if err != nil {
		t.Fatal(err)
	}
	return out, sum
}

// TestMergeEqualsOneProcess splits a known run over three recorders by
// client, merges their results and expects what one recorder of the whole
// fleet wrote: the same summary (bar the merged block), the same time
// series to the byte and the same histograms.
func TestMergeEqualsOneProcess(t *testing.T) {
	tests := []struct {
		name string
		opts mergetest.Options
	}{
		{"one start", mergetest.Options{}},
		// Segments that started whole buckets apart line up exactly.
		{"starts two buckets apart", mergetest.Options{SegmentStart: func(k int) time.Duration { return time.Duration(k) * 200 * time.Millisecond }}},
		{"the chaos from segment 2", mergetest.Options{Chaos: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			single, segs := mergetest.Write(t, t.TempDir(), tt.opts)
			// Given in any order.
			out, got := mergeInto(t, []string{segs[2], segs[0], segs[1]})
			want, err := results.ReadSummary(single)
			if err != nil {
				t.Fatal(err)
			}
			if got.Merged == nil || got.Merged.Segments != 3 || got.Merged.ChaosSegment == nil || *got.Merged.ChaosSegment != tt.opts.Chaos {
				t.Errorf("merged block %+v, want 3 segments, the chaos from %d", got.Merged, tt.opts.Chaos)
			}
			if got.Segment != nil {
				t.Errorf("a merged summary has a segment block: %+v", got.Segment)
			}
			read, err := results.ReadSummary(out)
			if err != nil {
				t.Fatal(err)
			}
			read.Merged = nil
			if !reflect.DeepEqual(read, want) {
				t.Errorf("merged summary differs from the single run's:\n got %+v\nwant %+v", read, want)
				for i := range min(len(read.Events), len(want.Events)) {
					if !reflect.DeepEqual(read.Events[i], want.Events[i]) {
						t.Errorf("event %d:\n got %+v\nwant %+v", i, read.Events[i], want.Events[i])
					}
				}
			}
			if len(want.Events) != 2 {
				t.Fatalf("the known run has %d events, want 2", len(want.Events))
			}
			e0 := want.Events[0]
			if want.Counters.ConnectAttempts == 0 || e0.T50S == nil || e0.ImbalanceAfter == nil ||
				e0.FirstAttempts == 0 || e0.QueuedAttempts == 0 || e0.DialLagMS == nil || e0.ReconnectBreakdown.FailedAttemptsMS == 0 {
				t.Fatalf("the known run lacks what it should test: %+v", want)
			}
			if g, w := readFile(t, filepath.Join(out, results.TimeseriesFile)), readFile(t, filepath.Join(single, results.TimeseriesFile)); g != w {
				t.Errorf("timeseries.csv differs:\n got %.400s\nwant %.400s", g, w)
			}
			gotRS, err := results.ReadResultSet(out)
			if err != nil {
				t.Fatal(err)
			}
			wantRS, err := results.ReadResultSet(single)
			if err != nil {
				t.Fatal(err)
			}
			if gotRS.ProfileTOML != wantRS.ProfileTOML {
				t.Errorf("profile.toml differs:\n got %s\nwant %s", gotRS.ProfileTOML, wantRS.ProfileTOML)
			}
			for _, f := range []string{results.SegmentFile} {
				if _, err := os.Stat(filepath.Join(out, f)); err == nil {
					t.Errorf("merged results hold %s", f)
				}
			}
		})
	}
}

// TestMergeReadsHistogramsExactly checks the merged histograms bucket by
// bucket against the single run's.
func TestMergeReadsHistogramsExactly(t *testing.T) {
	_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{})
	run, _, err := Dirs(segs)
	if err != nil {
		t.Fatal(err)
	}
	whole := mergetest.Whole()
	for _, m := range stats.Metrics {
		g, w := run.Results.Histogram(m), whole.Histogram(m)
		if !reflect.DeepEqual(g.Distribution(), w.Distribution()) || g.TotalCount() == 0 && m != stats.Recovery {
			t.Errorf("%s: merged histogram holds %d values, the single %d, or their buckets differ", m, g.TotalCount(), w.TotalCount())
		}
	}
	for i, e := range run.Results.Events {
		if g, w := e.ReconnectAt.Distribution(), whole.Events[i].ReconnectAt.Distribution(); !reflect.DeepEqual(g, w) {
			t.Errorf("event %d: reconnect offsets differ", i)
		}
		if e.Attempts != whole.Events[i].Attempts || !reflect.DeepEqual(e.AttemptSeries, whole.Events[i].AttemptSeries) {
			t.Errorf("event %d: attempts %d %v, want %d %v", i, e.Attempts, e.AttemptSeries, whole.Events[i].Attempts, whole.Events[i].AttemptSeries)
		}
	}
}

// TestMergeShiftsEventStarts has the segments that did not drive the chaos
// begin each event 7 ms late, as a segment's clock may: their reconnect
// offsets are moved onto the chaos segment's start, so the figures match
// the single run's to the histograms' precision.
func TestMergeShiftsEventStarts(t *testing.T) {
	delay := 7 * time.Millisecond
	single, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{BeginDelay: func(k int) time.Duration {
		if k == 0 {
			return 0
		}
		return delay
	}})
	_, got := mergeInto(t, segs)
	want, err := results.ReadSummary(single)
	if err != nil {
		t.Fatal(err)
	}
	if got.Merged.EventShiftS != delay.Seconds() {
		t.Errorf("event_shift_s %v, want %v", got.Merged.EventShiftS, delay.Seconds())
	}
	for i, w := range want.Events {
		g := got.Events[i]
		if g.AtS != w.AtS || g.Affected != w.Affected || g.Reconnected != w.Reconnected || g.AttemptsPerClient != w.AttemptsPerClient ||
			g.PeakAttemptRate != w.PeakAttemptRate || !reflect.DeepEqual(g.FailedAttempts, w.FailedAttempts) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
		for _, c := range []struct {
			name string
			g, w *float64
		}{{"t50", g.T50S, w.T50S}, {"t90", g.T90S, w.T90S}, {"t99", g.T99S, w.T99S}, {"t100", g.T100S, w.T100S}} {
			if (c.g == nil) != (c.w == nil) || c.g != nil && math.Abs(*c.g-*c.w) > *c.w/500+0.001 {
				t.Errorf("event %d %s = %v, want %v within 0.2%%", i, c.name, deref(c.g), deref(c.w))
			}
		}
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// TestMergeRefusals checks each reason to refuse a merge: an error that is
// ErrRefused, naming the directories and what to do.
func TestMergeRefusals(t *testing.T) {
	root := t.TempDir()
	_, good := mergetest.Write(t, filepath.Join(root, "good"), mergetest.Options{})
	variant := func(name string, o mergetest.Options) []string {
		_, dirs := mergetest.Write(t, filepath.Join(root, name), o)
		return dirs
	}
	mutate := func(name string, seg int, f func(*mergetest.Run)) []string {
		return variant(name, mergetest.Options{Mutate: func(k int, run *mergetest.Run) {
			if k == seg {
				p := *run.Profile
				run.Profile = &p
				f(run)
			}
		}})
	}
	renamed := mutate("renamed", 1, func(r *mergetest.Run) { r.Profile.Name = "other" })
	edited := mutate("edited", 1, func(r *mergetest.Run) { r.Profile.SHA256 = "0123456789abcdef" })
	overridden := mutate("overridden", 2, func(r *mergetest.Run) { r.Profile.Overrides = append(r.Profile.Overrides, "seed=3") })
	reseeded := mutate("reseeded", 1, func(r *mergetest.Run) { r.Profile.Seed = 2 })
	rescaled := mutate("rescaled", 2, func(r *mergetest.Run) { r.Profile.Scale, r.Profile.ScaleExact = 0.5, "1/2" })
	fours := variant("fours", mergetest.Options{Segments: 4})
	later := mutate("later", 2, func(r *mergetest.Run) { r.Segment.StartAt = r.Segment.StartAt.Add(time.Second) })
	twoChaos := mutate("two-chaos", 1, func(r *mergetest.Run) { r.Segment.Chaos = true })
	otherEvent := mutate("other-event", 2, func(r *mergetest.Run) { r.Results.Events[1].Code = 1001 })
	again := variant("again", mergetest.Options{})
	noEvent := mutate("no-event", 1, func(r *mergetest.Run) { r.Results.Events = r.Results.Events[:1] })
	normal := filepath.Join(root, "normal")
	if _, err := report.Write(normal, mergetest.Profile(t), &results.Run{Results: &stats.Results{Started: mergetest.Start, Elapsed: time.Second}}); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	tests := []struct {
		name string
		dirs []string
		want []string
	}{
		{"different profile", []string{good[0], renamed[1], good[2]}, []string{good[0], renamed[1], "different profiles", `"default" and "other"`}},
		{"edited profile", []string{good[0], edited[1], good[2]}, []string{"two versions", "0123456789ab"}},
		{"different overrides", []string{good[0], good[1], overridden[2]}, []string{overridden[2], "different --set overrides"}},
		{"different seed", []string{good[0], reseeded[1], good[2]}, []string{"different seeds (1 and 2)"}},
		{"different scale", []string{good[0], good[1], rescaled[2]}, []string{rescaled[2], "different --scale (none and 1/2)"}},
		{"different split", []string{good[0], good[1], fours[2]}, []string{"segment 0/3", "segment 2/4", fours[2]}},
		{"different start", []string{good[0], good[1], later[2]}, []string{"different --start-at", later[2]}},
		{"one missing", []string{good[0], good[2]}, []string{"segment 1 is missing of the run's 3 (0..2)", "all 3 segments"}},
		{"two missing", []string{good[2]}, []string{"segments 0, 1 are missing"}},
		{"one twice", []string{good[0], good[1], good[2], again[1]}, []string{"segment 1/3 is given twice", good[1], again[1]}},
		{"a directory twice", []string{good[0], good[1], good[1], good[2]}, []string{good[1] + " is named twice"}},
		{"two drove the chaos", []string{twoChaos[0], twoChaos[1], twoChaos[2]}, []string{"segments 0", "and 1", "both drove the chaos"}},
		{"events differ", []string{good[0], good[1], otherEvent[2]}, []string{"event 1 is close 1000 on all nodes in " + good[0], "close 1001", otherEvent[2]}},
		{"an event missing", []string{good[0], noEvent[1], good[2]}, []string{"event 1 (close 1000 on all nodes) is in " + good[0] + " but not in " + noEvent[1]}},
		{"a normal run", []string{good[0], normal, good[2]}, []string{normal + " is not a segment's results", "no segment.json", "a normal run's", "--segment I/N"}},
		{"not results", []string{good[0], empty}, []string{empty + " has no summary.json"}},
		{"nothing", nil, []string{"no segment directories"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Dirs(tt.dirs)
			var re *RefusedError
			if !errors.Is(err, ErrRefused) || !errors.As(err, &re) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%q is more than one line", err)
			}
		})
	}

	// An interrupted segment may lack the events after its end.
	cut := mutate("cut", 1, func(r *mergetest.Run) { r.Results.Events = r.Results.Events[:1]; r.Interrupted = true })
	run, _, err := Dirs([]string{good[0], cut[1], good[2]})
	if err != nil || !run.Interrupted {
		t.Errorf("an interrupted segment: err %v, run %+v", err, run)
	}
}

// TestMergeBrokenFiles checks that a damaged or missing file is named, and
// is not a refusal.
func TestMergeBrokenFiles(t *testing.T) {
	_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{})
	damage := func(dir, name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	damage(segs[1], results.SegmentFile, `{"schema": "wsstorm.segment/v1", "index": 1`)
	_, _, err := Dirs(segs)
	var fe *results.FileError
	if !errors.As(err, &fe) || errors.Is(err, ErrRefused) || !strings.HasPrefix(err.Error(), filepath.Join(segs[1], results.SegmentFile)+": ") {
		t.Errorf("damaged segment.json: %v", err)
	}

	_, segs = mergetest.Write(t, t.TempDir(), mergetest.Options{})
	if err := os.Remove(filepath.Join(segs[0], results.ProfileFile)); err != nil {
		t.Fatal(err)
	}
	_, _, err = Dirs(segs)
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), filepath.Join(segs[0], results.ProfileFile)) {
		t.Errorf("no profile.toml: %v", err)
	}

	_, segs = mergetest.Write(t, t.TempDir(), mergetest.Options{})
	damage(segs[2], results.HistogramsFile, "#[StartTime: 1]\n")
	if _, _, err = Dirs(segs); !errors.As(err, &fe) || !strings.Contains(err.Error(), filepath.Join(segs[2], results.HistogramsFile)) {
		t.Errorf("damaged histograms.hlog: %v", err)
	}
}

// TestMergeDetectedEvents splits an observe-mode run, in which each segment
// finds the burst of closes in its own clients' closes: the merged event
// starts at the first close any segment saw and settles after the last,
// as the single run's, and its figures match to the histograms' precision.
func TestMergeDetectedEvents(t *testing.T) {
	const clients, n = 30, 3
	start := mergetest.Start
	ms := time.Millisecond
	play := func(r *stats.Recorder, ids []int) *stats.Results {
		for _, i := range ids {
			r.Shard(i).Connect(start.Add(100*ms), ms)
		}
		closed := func(i int) time.Time { return start.Add(2*time.Second + time.Duration(i)*3*ms) }
		evs := map[int]int{}
		for _, i := range ids {
			evs[i] = r.Attribute(closed(i), 1006, -1)
			r.Shard(i).Close(closed(i), 1006, evs[i])
		}
		for _, i := range ids {
			back := closed(i).Add(time.Duration(100+i*i) * ms)
			r.Shard(i).Attempt(back.Add(-5*ms), back.Add(-5*ms), evs[i], false, false)
			r.Shard(i).Connect(back, 5*ms)
			r.Shard(i).Reconnected(back, closed(i), evs[i], stats.ReconnectParts{})
		}
		end := start.Add(5 * time.Second)
		r.EndSeries(end)
		res := r.Results(start, end.Sub(start))
		for i := range res.Events {
			res.Events[i].ReconnectExpected = true
		}
		return res
	}
	cfg := stats.Config{Start: start, Horizon: 6 * time.Second, Detect: &stats.DetectConfig{Gap: time.Second, MinCloses: 3}}
	var all []int
	for i := range clients {
		all = append(all, i)
	}
	root := t.TempDir()
	p := mergetest.Profile(t)
	single := filepath.Join(root, "single")
	if _, err := report.Write(single, p, &results.Run{Results: play(stats.New(cfg), all)}); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for k := range n {
		var ids []int
		for i := k; i < clients; i += n {
			ids = append(ids, i)
		}
		dir := filepath.Join(root, fmt.Sprintf("segment-%d", k))
		run := &results.Run{Results: play(stats.New(cfg), ids), Segment: &results.Segment{Index: k, Count: n, Clients: len(ids)}}
		if _, err := report.Write(dir, p, run); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	run, _, err := Dirs(dirs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := results.ReadSummary(single)
	if err != nil {
		t.Fatal(err)
	}
	got := results.BuildSummary(run, nil)
	if len(got.Events) != 1 || len(want.Events) != 1 {
		t.Fatalf("events %+v, want %+v", got.Events, want.Events)
	}
	g, w := got.Events[0], want.Events[0]
	if g.Action != stats.DetectedAction || g.AtS != w.AtS || g.Affected != w.Affected || g.Reconnected != w.Reconnected ||
		g.PeakAttemptRate != w.PeakAttemptRate || g.AttemptsPerClient != w.AttemptsPerClient || g.Node != nil {
		t.Errorf("event:\n got %+v\nwant %+v", g, w)
	}
	if run.Results.Events[0].Settle != 87*ms {
		t.Errorf("settle %v, want 87ms: from the first close to the last of any segment", run.Results.Events[0].Settle)
	}
	for _, c := range []struct {
		name string
		g, w *float64
	}{{"t50", g.T50S, w.T50S}, {"t90", g.T90S, w.T90S}, {"t100", g.T100S, w.T100S}} {
		if c.g == nil || c.w == nil || math.Abs(*c.g-*c.w) > *c.w/500+0.001 {
			t.Errorf("%s = %v, want %v within 0.2%%", c.name, deref(c.g), deref(c.w))
		}
	}
	if got.Detect == nil || !reflect.DeepEqual(*got.Detect, *want.Detect) {
		t.Errorf("detect %+v, want %+v", got.Detect, want.Detect)
	}
}

// TestMergeLeavesOutEventsTheChaosNeverBegan has the chaos segment cut
// short before its second event, which the other segments marked begun
// ahead of its planned time: the merged run has the first event only.
func TestMergeLeavesOutEventsTheChaosNeverBegan(t *testing.T) {
	for _, tt := range []struct {
		name string
		cut  func(*mergetest.Run)
	}{
		{"interrupted", func(r *mergetest.Run) { r.Interrupted = true }},
		{"aborted", func(r *mergetest.Run) { r.Aborted = "a restart hook failed" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{Mutate: func(k int, r *mergetest.Run) {
				if k == 0 {
					r.Results.Events = r.Results.Events[:1]
					tt.cut(r)
				}
			}})
			run, _, err := Dirs(segs)
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Results.Events) != 1 || run.Results.Events[0].Index != 0 {
				t.Fatalf("merged events %+v, want event 0 only", run.Results.Events)
			}
			// Event 0 is whole: every segment's clients in it.
			if e := run.Results.Events[0]; e.Affected != mergetest.Clients/2 {
				t.Errorf("event 0 affected %d, want %d", e.Affected, mergetest.Clients/2)
			}
		})
	}
}

// TestMergeEventsOfACutShortSegment checks that a segment cut short may
// lack the run's last events, but not one before an event it has.
func TestMergeEventsOfACutShortSegment(t *testing.T) {
	cut := func(keep int) []string {
		_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{Mutate: func(k int, r *mergetest.Run) {
			if k == 1 {
				r.Results.Events = r.Results.Events[keep : keep+1]
				r.Interrupted = true
			}
		}})
		return segs
	}
	if _, _, err := Dirs(cut(0)); err != nil {
		t.Errorf("a segment interrupted before the last event: %v", err)
	}
	segs := cut(1)
	_, _, err := Dirs(segs)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "event 0 (rolling_restart 1012 on node 0) is in "+segs[0]+" but not in "+segs[1]) ||
		!strings.Contains(err.Error(), "may lack only the run's last events, but it has event 1") {
		t.Errorf("a segment interrupted that lacks the first event but has the second: %v", err)
	}
}

// TestMergeStartSpread checks the bound on how far apart the segments'
// starts may be: 10% of the profile's duration, at least 1s.
func TestMergeStartSpread(t *testing.T) {
	for _, tt := range []struct {
		duration, spread time.Duration
		refused          bool
	}{
		{8 * time.Second, time.Second, false},
		{8 * time.Second, 1200 * time.Millisecond, true},
		{8 * time.Second, 23 * time.Second, true},
		{30 * time.Second, 2800 * time.Millisecond, false},
		{30 * time.Second, 3200 * time.Millisecond, true},
	} {
		t.Run(fmt.Sprintf("%v apart in %v", tt.spread, tt.duration), func(t *testing.T) {
			p := mergetest.Profile(t)
			p.Duration.Duration = tt.duration
			// Started without --start-at, by hand.
			_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{Profile: p, Mutate: func(k int, r *mergetest.Run) {
				r.Segment.StartAt = time.Time{}
				r.Results.Started = r.Results.Started.Add(time.Duration(k) * tt.spread / 2)
			}})
			_, _, err := Dirs(segs)
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := fmt.Sprintf("%s and %s started %.1fs apart, more than the %v that segments of one %v run may be", segs[0], segs[2], tt.spread.Seconds(), max(time.Second, tt.duration/10), tt.duration)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--start-at") {
				t.Errorf("err = %v, want a refusal with %q", err, want)
			}
		})
	}
}

// TestMergeProfileDoesNotLoad checks the error of a profile.toml that does
// not load: the profile's own problem, and files only when it names files
// this machine lacks.
func TestMergeProfileDoesNotLoad(t *testing.T) {
	missingCA := filepath.Join(t.TempDir(), "ca.pem")
	for _, tt := range []struct {
		name, toml string
		want       []string
		files      bool
	}{
		{"empty TLS table for ws://", "[target]\nmode = \"proxy\"\nurl = \"ws://127.0.0.1:1/ws\"\n[target.tls]\nca_file = \"\"\nserver_name = \"\"\n",
			[]string{"target.tls: applies only to a wss:// URL", "correct that key"}, false},
		{"missing CA file", "[target]\nmode = \"proxy\"\nurl = \"wss://127.0.0.1:1/ws\"\n[target.tls]\nca_file = \"" + missingCA + "\"\n",
			[]string{"target.tls.ca_file: cannot read " + missingCA, "files this machine lacks (" + missingCA + ")", "merge where the segments ran"}, true},
		{"missing send_file", "[[fleet.session.script]]\nsend_file = \"payload.bin\"\n",
			[]string{"fleet.session.script.0.send_file: cannot read", "payload.bin)", "merge where the segments ran"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{})
			text := "name = \"default\"\nduration = \"8s\"\n" + tt.toml
			if err := os.WriteFile(filepath.Join(segs[0], results.ProfileFile), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Dirs(segs)
			if err == nil || errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want the profile's error", err)
			}
			msg := err.Error()
			for _, w := range append(tt.want, filepath.Join(segs[0], results.ProfileFile)) {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if !tt.files && (strings.Contains(msg, "file") && !strings.Contains(msg, "the file") || strings.Contains(msg, "where the segments ran")) {
				t.Errorf("%q speaks of files, but none is missing", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("%q is more than one line", msg)
			}
		})
	}
}

// TestMergeProxyProfile merges the segments of a run through the chaos
// proxy to a ws:// upstream, whose profile.toml must load back.
func TestMergeProxyProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proxy.toml")
	text := "name = \"proxy\"\nduration = \"8s\"\n[target]\nmode = \"proxy\"\nurl = \"ws://127.0.0.1:1/ws\"\n[fleet]\nclients = 30\n" +
		"[[chaos]]\nat = \"2s\"\naction = \"rolling_restart\"\nnodes = [0]\n[[chaos]]\nat = \"6s\"\naction = \"close\"\nfraction = 0.5\ncode = 1000\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profile.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{Profile: p})
	_, merged, err := Dirs(segs)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Target.Mode != profile.ModeProxy || merged.Target.URL != "ws://127.0.0.1:1/ws" {
		t.Errorf("merged profile's target %+v", merged.Target)
	}
}

// TestMergeKeepsOtherFailures: the messages of the segments' other failures
// reach the merged summary once each, in segment order, up to the cap.
func TestMergeKeepsOtherFailures(t *testing.T) {
	msgs := [][]string{{"a", "b"}, {"b", "c", "d"}, {"e", "f"}}
	_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{Mutate: func(k int, run *mergetest.Run) {
		run.Results.Counters.OtherFailures = msgs[k]
	}})
	out, got := mergeInto(t, []string{segs[2], segs[0], segs[1]})
	want := []string{"a", "b", "c", "d", "e"}
	if !reflect.DeepEqual(got.Counters.OtherFailures, want) {
		t.Errorf("merged messages %q, want %q", got.Counters.OtherFailures, want)
	}
	read, err := results.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read.Counters.OtherFailures, want) {
		t.Errorf("merged summary.json holds %q, want %q", read.Counters.OtherFailures, want)
	}
}

// TestMergeKeepsTheScale: segments of a scaled run merge into a run of the
// same exact scale, which its summary and profile.toml's header give.
func TestMergeKeepsTheScale(t *testing.T) {
	_, segs := mergetest.Write(t, t.TempDir(), mergetest.Options{Mutate: func(_ int, run *mergetest.Run) {
		p := *run.Profile
		p.Scale, p.ScaleExact = 20.0/45, "4/9"
		run.Profile = &p
	}})
	run, p, err := Dirs(segs)
	if err != nil {
		t.Fatal(err)
	}
	if p.ScaleExact != "4/9" || p.Scale != 20.0/45 {
		t.Errorf("merged profile's scale %q (%v)", p.ScaleExact, p.Scale)
	}
	if s := report.Summarize(p, run); s.Profile.Scale != "4/9" {
		t.Errorf("merged summary's scale %q", s.Profile.Scale)
	}
	var b strings.Builder
	if err := p.WriteTOML(&b); err != nil || !strings.Contains(b.String(), "(--scale 4/9)") {
		t.Errorf("profile.toml header (%v):\n%s", err, b.String())
	}
}
