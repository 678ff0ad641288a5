package stats

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func approx(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v ± %v", name, got, want, tol)
	}
}

func dur(t *testing.T, name string, got *time.Duration, want time.Duration) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s = nil, want %v", name, want)
	}
	// 3 significant digits: 0.1% resolution.
	if diff := math.Abs(float64(*got - want)); diff > float64(want)/500 {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

// TestHerdKnownInput feeds a herd with known close and reconnect times and
// checks every figure of the event's analysis against hand computation.
func TestHerdKnownInput(t *testing.T) {
	start := time.Now()
	r := New(Config{
		Start:   start,
		Horizon: 30 * time.Second,
		Events: []EventPlan{
			{Action: "restart", Node: 0, Code: 1012, Settle: 2 * time.Second},
			{Action: "close", Node: -1, Code: 1000},
		},
	})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.BeginEvent(0, at(10*time.Second))

	// 100 clients closed by the event at 10 s; client i reconnects at
	// 10 s + (i+1)·10 ms after one failed attempt, except the last 5,
	// which never come back.
	for i := range 100 {
		r.Shard(i).Connect(at(time.Second), time.Millisecond)
	}
	for i := range 100 {
		s := r.Shard(i)
		closed := at(10 * time.Second)
		ev := r.Attribute(closed, 1012, 0)
		if ev != 0 {
			t.Fatalf("close attributed to %d, want 0", ev)
		}
		s.Close(closed, 1012, ev)
		s.Attempt(closed, closed, ev, false, false) // fails
		s.Failure(closed, HTTPStatus(503), ev)
		if i >= 95 {
			continue
		}
		back := closed.Add(time.Duration(i+1) * 10 * time.Millisecond)
		s.Attempt(back, back, ev, false, false)
		s.Connect(back, time.Millisecond)
		s.Reconnected(back, closed, ev, ReconnectParts{})
	}
	res := r.Results(time.Now(), 20*time.Second)
	if len(res.Events) != 1 {
		t.Fatalf("events = %d, want 1 (event 1 never began)", len(res.Events))
	}
	e := res.Events[0]
	if e.Affected != 100 || e.Reconnected != 95 || e.NeverReconnected != 5 {
		t.Fatalf("affected/reconnected/never = %d/%d/%d, want 100/95/5", e.Affected, e.Reconnected, e.NeverReconnected)
	}
	if n := e.ReconnectAt.TotalCount(); n != 95 {
		t.Errorf("recovery curve holds %d reconnects, want 95", n)
	}
	dur(t, "t50", e.T50, 500*time.Millisecond)
	dur(t, "t90", e.T90, 900*time.Millisecond)
	if e.T99 != nil || e.T100 != nil {
		t.Errorf("t99, t100 = %v, %v; want nil: only 95%% came back", e.T99, e.T100)
	}
	if got := e.FailedAttempts["http_503"]; got != 100 {
		t.Errorf("failed http_503 = %d, want 100", got)
	}
	approx(t, "attempts_per_client", e.AttemptsPerClient, 1.95, 1e-9)
	// Bucket [10.0, 10.1): 100 failed attempts + 9 reconnects (10..90 ms).
	approx(t, "peak_attempt_rate", e.PeakAttemptRate, 109/0.1, 1e-6)
	// No t100: the recovery lasted until the last attempt, in the bucket
	// [10.9 s, 11.0 s): 1 s after the event's start.
	approx(t, "mean_attempt_rate", e.MeanAttemptRate, 195/1.0, 1e-6)
	approx(t, "herd_factor", e.HerdFactor, (109/0.1)/195, 1e-6)

	c := res.Counters
	if c.Closes[1012] != 100 || c.Reconnects != 95 || c.ConnectAttempts != 195 || c.Connects != 195 {
		t.Errorf("counters = %+v", c)
	}
	if res.PeakConnected != 100 {
		t.Errorf("peak connected = %d, want 100", res.PeakConnected)
	}
	if got := res.Series[len(res.Series)-1].Connected; got != 95 {
		t.Errorf("connected at end = %d, want 95", got)
	}
	if got := res.Histograms[Reconnect].TotalCount(); got != 95 {
		t.Errorf("reconnect count = %d, want 95", got)
	}
}

func TestTimeToShareAllBack(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 4; i++ {
		_ = h.RecordValue(int64(i) * 1000) // 1..4 ms
	}
	for _, tc := range []struct {
		share float64
		want  time.Duration
	}{{0.5, 2 * time.Millisecond}, {0.9, 4 * time.Millisecond}, {1, 4 * time.Millisecond}, {0.25, time.Millisecond}} {
		got := timeToShare(h, 4, tc.share)
		if got == nil || *got < tc.want || *got > tc.want+tc.want/500 {
			t.Errorf("share %v: got %v, want %v", tc.share, got, tc.want)
		}
	}
	if got := timeToShare(h, 0, 0.5); got != nil {
		t.Errorf("no affected clients: got %v, want nil", *got)
	}
}

func TestAttribute(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute, Events: []EventPlan{
		{Action: "restart", Node: 0, Code: 1012, Window: 0},
		{Action: "restart", Node: 1, Code: 1012, Window: 10 * time.Second},
		{Action: "close", Node: -1, Code: 1000},
	}})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.BeginEvent(0, at(10*time.Second))
	r.BeginEvent(1, at(12*time.Second))
	r.BeginEvent(2, at(30*time.Second))
	for _, tc := range []struct {
		name       string
		t          time.Duration
		code, node int
		want       int
	}{
		{"before any event", 5 * time.Second, 1012, 0, -1},
		{"node 0 during its restart", 10 * time.Second, 1012, 0, 0},
		{"node 1 while both are active", 13 * time.Second, 1012, 1, 1},
		{"node 0 while node 1 drains", 13 * time.Second, 1012, 0, 0},
		{"unknown node: latest event", 13 * time.Second, 1012, -1, 1},
		{"other code", 13 * time.Second, 1011, 0, -1},
		{"long after the window", 29 * time.Second, 1012, 0, -1},
		{"close on any node", 30 * time.Second, 1000, 2, 2},
	} {
		if got := r.Attribute(at(tc.t), tc.code, tc.node); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSeriesAndGauges(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 2 * time.Second, GaugeNames: []string{"a", "b"}, ImbalanceGauges: []int{0, 1}})
	s := r.Shard(0)
	s.Attempt(start.Add(50*time.Millisecond), start.Add(50*time.Millisecond), -1, false, false)
	s.Connect(start.Add(60*time.Millisecond), time.Millisecond)
	s.Attempt(start.Add(150*time.Millisecond), start.Add(150*time.Millisecond), -1, false, false)
	s.Failure(start.Add(160*time.Millisecond), Refused, -1)
	s.Close(start.Add(250*time.Millisecond), 1006, -1)
	s.Attempt(start.Add(10*time.Second), start.Add(10*time.Second), -1, false, false) // past the horizon: last bucket
	r.Sample(start.Add(120*time.Millisecond), []int64{3, 1})
	res := r.Results(start, 300*time.Millisecond)
	if len(res.Series) != 3 {
		t.Fatalf("series has %d buckets, want 3", len(res.Series))
	}
	want := []Bucket{
		{Connected: 1, Attempts: 1, Connects: 1},
		{Connected: 1, Attempts: 1, Failures: 1},
		{Connected: 0, Attempts: 1},
	}
	for i, w := range want {
		g := res.Series[i]
		if g.Connected != w.Connected || g.Attempts != w.Attempts || g.Connects != w.Connects || g.Failures != w.Failures {
			t.Errorf("bucket %d = %+v, want %+v", i, g, w)
		}
	}
	if len(res.CloseCodes) != 1 || res.CloseCodes[0] != 1006 || res.Series[2].Closes[0] != 1 {
		t.Errorf("closes by code: codes %v, bucket 2 %v", res.CloseCodes, res.Series[2].Closes)
	}
	if g := res.Series[1].Gauges; g[0] != 3 || g[1] != 1 {
		t.Errorf("gauges in bucket 1 = %v, want [3 1]", g)
	}
	if g := res.Series[0].Gauges; g[0] != -1 {
		t.Errorf("unsampled gauge = %d, want -1", g[0])
	}
	if v := Imbalance(res.Series[1].Gauges, []int{0, 1}); v == nil || *v != 1.5 {
		t.Errorf("imbalance = %v, want 1.5", v)
	}
	if got := res.Counters.ConnectFailures["refused"]; got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}
}

func TestImbalanceAfterEvent(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 10 * time.Second, GaugeNames: []string{"n0", "n1", "n2"}, ImbalanceGauges: []int{0, 1, 2},
		Events: []EventPlan{{Action: "restart", Node: 0, Code: 1012, Settle: time.Second}}})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.BeginEvent(0, at(time.Second))
	s := r.Shard(0)
	s.Connect(at(0), time.Millisecond)
	s.Close(at(time.Second), 1012, 0)
	s.Reconnected(at(1500*time.Millisecond), at(time.Second), 0, ReconnectParts{})
	for d := time.Duration(0); d < 5*time.Second; d += 100 * time.Millisecond {
		v := []int64{10, 10, 10}
		if d >= time.Second {
			v = []int64{0, 15, 15} // node 0 stays empty after its restart
		}
		r.Sample(at(d+time.Millisecond), v)
	}
	res := r.Results(start, 5*time.Second)
	got := res.Events[0].ImbalanceAfter
	if got == nil || math.Abs(*got-1.5) > 1e-9 {
		t.Fatalf("imbalance after = %v, want 1.5", got)
	}
}

func TestConcurrentRecording(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute, Shards: 4})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			s := r.Shard(w)
			for range 1000 {
				now := time.Now()
				s.Attempt(now, now, -1, false, false)
				s.Connect(now, time.Millisecond)
				s.Echo(2 * time.Millisecond)
				s.ClientClose(now)
			}
		})
	}
	wg.Wait()
	res := r.Results(start, time.Since(start))
	if res.Counters.Connects != 16000 || res.Histograms[MessageRTT].TotalCount() != 16000 {
		t.Fatalf("connects %d, rtt count %d; want 16000 each", res.Counters.Connects, res.Histograms[MessageRTT].TotalCount())
	}
	if r.Connected() != 0 {
		t.Fatalf("connected = %d, want 0", r.Connected())
	}
}

func TestRecordingDoesNotAllocate(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute, Events: []EventPlan{{Code: 1012, Node: -1}}})
	r.BeginEvent(0, start)
	s := r.Shard(0)
	now := start.Add(time.Second)
	s.Close(now, 1012, 0)              // first sight of the code
	s.Failure(now, HTTPStatus(503), 0) // and of the reason
	allocs := testing.AllocsPerRun(1000, func() {
		s.Attempt(now, now, 0, false, false)
		s.Failure(now, HTTPStatus(503), 0)
		s.Connect(now, time.Millisecond)
		s.Reconnected(now, start, 0, ReconnectParts{})
		s.Recovered(time.Millisecond)
		s.Sent()
		s.Echo(time.Millisecond)
		s.Received()
		s.Close(now, 1012, 0)
	})
	if allocs != 0 {
		t.Fatalf("recording allocates %v times per round, want 0", allocs)
	}
}

// TestEndSeries: the clients' own closes after the run's end count, but the
// series keeps the state at the end.
func TestEndSeries(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute})
	s := r.Shard(0)
	s.Connect(start.Add(50*time.Millisecond), time.Millisecond)
	s.Connect(start.Add(60*time.Millisecond), time.Millisecond)
	r.EndSeries(start.Add(150 * time.Millisecond))
	s.ClientClose(start.Add(160 * time.Millisecond))
	s.Close(start.Add(170*time.Millisecond), 1006, -1)
	res := r.Results(start, 150*time.Millisecond)
	if got := res.Series[len(res.Series)-1].Connected; got != 2 {
		t.Fatalf("connected at the end = %d, want 2", got)
	}
	if res.Counters.ClientCloses != 1 || res.Counters.Closes[1006] != 1 {
		t.Fatalf("counters lost records after the end: %+v", res.Counters)
	}
}

// TestImbalanceAfterBatch: two nodes of one batch restart together; the
// sibling event's start must not end the first one's window, and the bucket
// in which the next batch starts must not be read.
func TestImbalanceAfterBatch(t *testing.T) {
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r := New(Config{Start: start, Horizon: 10 * time.Second,
		GaugeNames: []string{"n0", "n1", "n2", "n3"}, ImbalanceGauges: []int{0, 1, 2, 3},
		Events: []EventPlan{
			{At: time.Second, Action: "rolling_restart", Node: 0, Code: 1012, Settle: 200 * time.Millisecond},
			{At: time.Second, Action: "rolling_restart", Node: 1, Code: 1012, Settle: 200 * time.Millisecond},
			{At: 3 * time.Second, Action: "rolling_restart", Node: 2, Code: 1012, Settle: 200 * time.Millisecond},
		}})
	r.BeginEvent(0, at(time.Second))
	r.BeginEvent(1, at(time.Second+10*time.Microsecond))
	r.BeginEvent(2, at(3*time.Second))
	s := r.Shard(0)
	s.Close(at(time.Second), 1012, 0)
	s.Reconnected(at(1500*time.Millisecond), at(time.Second), 0, ReconnectParts{})
	s.Close(at(time.Second), 1012, 1) // never comes back: no t100
	for d := time.Duration(0); d < 5*time.Second; d += 100 * time.Millisecond {
		v := []int64{10, 10, 10, 10}
		switch {
		case d >= 3*time.Second:
			v = []int64{0, 0, 0, 40}
		case d >= time.Second:
			v = []int64{0, 0, 20, 20}
		}
		r.Sample(at(d+50*time.Millisecond), v)
	}
	res := r.Results(start, 5*time.Second)
	for i := range 2 {
		got := res.Events[i].ImbalanceAfter
		if got == nil || math.Abs(*got-2) > 1e-9 {
			t.Errorf("event %d: imbalance after = %v, want 2 (nodes 0,0,20,20)", i, got)
		}
	}
	if got := res.Events[2].ImbalanceAfter; got == nil || math.Abs(*got-4) > 1e-9 {
		t.Errorf("event 2: imbalance after = %v, want 4", got)
	}
}

// TestMemoryFollowsRunLength: a 24 h horizon with many planned events costs
// nothing until the run records into it.
func TestMemoryFollowsRunLength(t *testing.T) {
	plans := make([]EventPlan, 64)
	for i := range plans {
		plans[i] = EventPlan{Code: 1012, Node: i}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := New(Config{Start: time.Now(), Horizon: 24 * time.Hour, Events: plans, Shards: 64,
		GaugeNames: []string{"a", "b", "c"}})
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Fatalf("a recorder for 24 h and 64 events allocates %d MiB up front", grown>>20)
	}
	runtime.KeepAlive(r)
}

// TestManyCloseCodesLate: a hostile server cycling through every application
// close code late in a long run costs a few buckets per code, not the run.
func TestManyCloseCodesLate(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Hour, Shards: 8})
	late := start.Add(59 * time.Minute)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for code := 3000; code < 5000; code++ {
		for sh := range 8 {
			r.Shard(sh).Close(late, code, -1)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Fatalf("2000 codes × 8 shards at minute 59 allocated %d MiB", grown>>20)
	}
	for i := range 100 { // the most frequent code keeps its column
		r.Shard(i).Close(late, 1012, -1)
	}
	res := r.Results(start, time.Hour)
	runtime.ReadMemStats(&before)
	if grown := before.TotalAlloc - after.TotalAlloc; grown > 256<<20 {
		t.Fatalf("merging allocated %d MiB", grown>>20)
	}
	if len(res.CloseCodes) != MaxCloseColumns || res.CloseCodes[MaxCloseColumns-1] != OtherCodes || res.Counters.Closes[4999] != 8 {
		t.Fatalf("columns %v, closes[4999] %d", res.CloseCodes, res.Counters.Closes[4999])
	}
	if !slices.Contains(res.CloseCodes, 1012) {
		t.Fatalf("the most frequent code lost its column: %v", res.CloseCodes)
	}
	last := res.Series[int(59*time.Minute/res.BucketWidth)].Closes
	var total int64
	for _, v := range last {
		total += v
	}
	if total != 2000*8+100 {
		t.Fatalf("the series counts %d closes at minute 59, want %d", total, 2000*8+100)
	}
}

// TestCloseAtKnownInput: a planned event's CloseAt holds, from the event's
// start, the time of each close its clients observed; a close attributed
// to no event adds nothing.
func TestCloseAtKnownInput(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 30 * time.Second,
		Events: []EventPlan{{Action: "freeze", Node: 0, Code: 1006, Settle: 5 * time.Second}}})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.BeginEvent(0, at(10*time.Second))
	offsets := []time.Duration{200 * time.Millisecond, 450 * time.Millisecond, 700 * time.Millisecond}
	for i, off := range offsets {
		r.Shard(i).Connect(at(time.Second), time.Millisecond)
		r.Shard(i).Close(at(10*time.Second+off), 1006, 0)
	}
	r.Shard(3).Connect(at(time.Second), time.Millisecond)
	r.Shard(3).Close(at(20*time.Second), 1006, -1)
	e := r.Results(time.Now(), 25*time.Second).Events[0]
	if e.CloseAt == nil || e.CloseAt.TotalCount() != 3 {
		t.Fatalf("CloseAt %v, want the event's 3 closes", e.CloseAt)
	}
	for name, got := range map[string]int64{"min": e.CloseAt.Min(), "p50": e.CloseAt.ValueAtQuantile(50), "max": e.CloseAt.Max()} {
		want := map[string]time.Duration{"min": offsets[0], "p50": offsets[1], "max": offsets[2]}[name]
		d := time.Duration(got) * time.Microsecond
		dur(t, "CloseAt "+name, &d, want)
	}
}
