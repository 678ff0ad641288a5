package results_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/merge/mergetest"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// write writes run's results into dir, as a run without a profile.
func write(dir string, run *results.Run) (*results.Summary, error) {
	s := results.BuildSummary(run, nil)
	return s, results.Write(dir, run, s, results.Extras{})
}

// TestSegmentRoundTrip writes a segment's results and reads them back: the
// results are the recorder's to the nanosecond and the count, and the herd
// analysis computed again from them is the one the run computed.
func TestSegmentRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "seg")
	want := mergetest.Whole()
	startAt := mergetest.Start.Add(-time.Second)
	seg := &results.Segment{Index: 1, Count: 4, StartAt: startAt, Chaos: true, Clients: 7}
	sum, err := write(dir, &results.Run{Results: want, Segment: seg})
	if err != nil {
		t.Fatal(err)
	}
	if s := sum.Segment; s == nil || s.Index != 1 || s.Count != 4 || !s.Chaos || s.Clients != 7 || s.StartAt == nil || !s.StartAt.Equal(startAt) {
		t.Errorf("summary's segment block: %+v", sum.Segment)
	}
	if sum.Merged != nil {
		t.Errorf("a segment's summary has a merged block")
	}
	got, err := results.ReadSegment(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Segment != *seg {
		t.Errorf("segment %+v, want %+v", got.Segment, *seg)
	}
	r := got.Results
	if !r.Started.Equal(want.Started) || r.Elapsed != want.Elapsed || r.BucketWidth != want.BucketWidth || r.PeakConnected != want.PeakConnected {
		t.Errorf("started %v elapsed %v width %v peak %d, want %v %v %v %d", r.Started, r.Elapsed, r.BucketWidth, r.PeakConnected,
			want.Started, want.Elapsed, want.BucketWidth, want.PeakConnected)
	}
	if !reflect.DeepEqual(r.Counters, want.Counters) {
		t.Errorf("counters %+v, want %+v", r.Counters, want.Counters)
	}
	if !reflect.DeepEqual(r.Series, want.Series) || !slices.Equal(r.CloseCodes, want.CloseCodes) ||
		!slices.Equal(r.GaugeNames, want.GaugeNames) || !slices.Equal(r.ImbalanceGauges, want.ImbalanceGauges) {
		t.Errorf("series differ: codes %v gauges %v %v, want %v %v %v", r.CloseCodes, r.GaugeNames, r.ImbalanceGauges, want.CloseCodes, want.GaugeNames, want.ImbalanceGauges)
	}
	for _, m := range stats.Metrics {
		if !reflect.DeepEqual(r.Histogram(m).Distribution(), want.Histogram(m).Distribution()) {
			t.Errorf("%s histogram differs", m)
		}
	}
	if len(r.Events) != len(want.Events) {
		t.Fatalf("%d events, want %d", len(r.Events), len(want.Events))
	}
	for i := range want.Events {
		g, w := r.Events[i], want.Events[i]
		if !reflect.DeepEqual(g.ReconnectAt.Distribution(), w.ReconnectAt.Distribution()) {
			t.Errorf("event %d: reconnect offsets differ", i)
		}
		if (g.CloseAt == nil) != (w.CloseAt == nil) || w.CloseAt != nil && !reflect.DeepEqual(g.CloseAt.Distribution(), w.CloseAt.Distribution()) {
			t.Errorf("event %d: close offsets differ", i)
		}
		if (g.DialLag == nil) != (w.DialLag == nil) || w.DialLag != nil && !reflect.DeepEqual(g.DialLag.Distribution(), w.DialLag.Distribution()) {
			t.Errorf("event %d: dial lag differs", i)
		}
		g.ReconnectAt, w.ReconnectAt, g.CloseAt, w.CloseAt, g.DialLag, w.DialLag = nil, nil, nil, nil, nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event %d read back:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestReadSegmentErrors(t *testing.T) {
	normal := filepath.Join(t.TempDir(), "normal")
	if _, err := write(normal, &results.Run{Results: mergetest.Whole()}); err != nil {
		t.Fatal(err)
	}
	if _, err := results.ReadSegment(normal); !errors.Is(err, results.ErrNotSegment) || !strings.Contains(err.Error(), "no segment.json") {
		t.Errorf("a normal run's results: %v", err)
	}

	// A segment's results written over by a normal run lose segment.json.
	dir := filepath.Join(t.TempDir(), "reused")
	seg := &results.Segment{Index: 0, Count: 2, Clients: 15}
	if _, err := write(dir, &results.Run{Results: mergetest.Whole(), Segment: seg}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, results.SegmentFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := write(dir, &results.Run{Results: mergetest.Whole()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, results.SegmentFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("segment.json of the earlier run left behind: %v", err)
	}

	for _, tt := range []struct {
		name, content, want string
	}{
		{"truncated", `{"schema": "wsstorm.segment/v1"`, "unexpected end of JSON input"},
		{"other schema", `{"schema": "wsstorm.segment/v9"}`, `schema "wsstorm.segment/v9" is not supported`},
		{"bad index", `{"schema": "wsstorm.segment/v1", "index": 3, "count": 3, "bucket_width_ns": 1, "started_at": "2026-01-01T00:00:00Z"}`, "segment 3/3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "seg")
			if _, err := write(dir, &results.Run{Results: mergetest.Whole(), Segment: seg}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, results.SegmentFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := results.ReadSegment(dir)
			var fe *results.FileError
			if !errors.As(err, &fe) || fe.Path != path || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a FileError on %s saying %q", err, path, tt.want)
			}
		})
	}
}
