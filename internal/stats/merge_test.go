package stats

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestMergeBucketCountsAdd(t *testing.T) {
	var c BucketCounts
	c.Add(5, 2)
	c.Add(7, 1)
	c.Add(3, 4) // before the first: the series grows at the front
	c.Add(5, 1)
	if c.From != 3 || !slices.Equal(c.Counts, []int64{4, 0, 3, 0, 1}) || c.Total() != 8 {
		t.Errorf("got from %d %v (total %d), want from 3 [4 0 3 0 1] (total 8)", c.From, c.Counts, c.Total())
	}
}

// TestAnalyzeFromRecords checks that the herd analysis depends on nothing
// but what Results holds: cleared and computed again (as a merge of
// segments does) it comes out the same.
func TestMergeAnalyzeFromRecords(t *testing.T) {
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r := New(Config{Start: start, Horizon: 20 * time.Second, GaugeNames: []string{"a", "b"}, ImbalanceGauges: []int{0, 1},
		Events: []EventPlan{{At: 2 * time.Second, Action: "restart", Node: 0, Code: 1012, Window: time.Second, Settle: time.Second}}})
	r.BeginEvent(0, at(2*time.Second))
	for i := range 50 {
		s := r.Shard(i)
		s.Connect(at(100*time.Millisecond), time.Millisecond)
		closed := at(2*time.Second + time.Duration(i)*time.Millisecond)
		ev := r.Attribute(closed, 1012, 0)
		s.Close(closed, 1012, ev)
		try := closed.Add(time.Duration(i*i) * time.Millisecond)
		s.Attempt(try, try, ev, false, false)
		if i%3 == 0 {
			s.Failure(try, Refused, ev)
			try = try.Add(300 * time.Millisecond)
			s.Attempt(try, try, ev, false, false)
		}
		s.Connect(try, time.Millisecond)
		s.Reconnected(try, closed, ev, ReconnectParts{})
	}
	for b := range 80 {
		r.Sample(at(time.Duration(b)*100*time.Millisecond), []int64{int64(20 + b%5), 25})
	}
	res := r.Results(start, 8*time.Second)
	want := res.Events[0]
	if want.Attempts != 67 || want.AttemptSeries.Total() != 67 || want.T100 == nil || want.ImbalanceAfter == nil {
		t.Fatalf("event: %+v", want)
	}
	e := &res.Events[0]
	e.NeverReconnected, e.T50, e.T90, e.T99, e.T100 = 0, nil, nil, nil, nil
	e.PeakAttemptRate, e.MeanAttemptRate, e.HerdFactor, e.AttemptsPerClient, e.ImbalanceAfter = 0, 0, 0, 0, nil
	res.Analyze()
	if !reflect.DeepEqual(res.Events[0], want) {
		t.Errorf("analysed again:\n got %+v\nwant %+v", res.Events[0], want)
	}
}

// TestMergeResultsLeaveOutEventsAfterTheEnd checks that an event marked
// begun ahead of its planned start, as a segment that does not drive the
// chaos marks it, is not reported when the run ended before that start.
func TestMergeResultsLeaveOutEventsAfterTheEnd(t *testing.T) {
	start := time.Now()
	plans := []EventPlan{
		{At: 2 * time.Second, Action: "restart", Node: 0, Code: 1012, Window: time.Second},
		{At: 3950 * time.Millisecond, Action: "restart", Node: 1, Code: 1012, Window: time.Second},
	}
	r := New(Config{Start: start, Horizon: 10 * time.Second, Events: plans})
	for i, p := range plans {
		r.BeginEvent(i, start.Add(p.At))
	}
	for _, tt := range []struct {
		elapsed time.Duration
		want    []int
	}{
		{3751 * time.Millisecond, []int{0}},
		{3950 * time.Millisecond, []int{0, 1}}, // begun as the run ended
		{5 * time.Second, []int{0, 1}},
		{time.Second, nil},
	} {
		var got []int
		for _, e := range r.Results(start, tt.elapsed).Events {
			got = append(got, e.Index)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("run of %v: events %v, want %v", tt.elapsed, got, tt.want)
		}
	}
}
