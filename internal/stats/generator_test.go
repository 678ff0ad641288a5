package stats

import (
	"testing"
	"time"
)

// Dial lag is the attempt's start less its intended start; the intended
// herd counts the first attempts by intended bucket, in whatever order
// they are recorded, and retries not at all.
func TestIntendedAndLag(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 10 * time.Second, Shards: 1,
		Events: []EventPlan{{At: time.Second, Action: "restart", Node: -1, Code: 1012, Window: time.Second}}})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.BeginEvent(0, at(time.Second))
	s := r.Shard(0)
	for i := range 10 {
		s.Close(at(time.Second), 1012, 0)
		// Meant at 1.55 s, started in order over the next second: the
		// later ones recorded first.
		late := time.Duration(9-i) * 100 * time.Millisecond
		s.Attempt(at(1550*time.Millisecond), at(1550*time.Millisecond+late), 0, true, false)
	}
	s.Attempt(at(2*time.Second), at(2*time.Second+time.Millisecond), 0, false, false) // a retry
	s.Reconnected(at(3*time.Second), at(time.Second), 0, ReconnectParts{Backoff: 550 * time.Millisecond, Lag: time.Second, Failed: 400 * time.Millisecond, Handshake: 50 * time.Millisecond})
	res := r.Results(start, 5*time.Second)
	ev := res.Events[0]
	if ev.FirstAttempts != 10 || ev.Attempts != 11 {
		t.Errorf("first attempts %d, attempts %d; want 10 and 11", ev.FirstAttempts, ev.Attempts)
	}
	if ev.IntendedSeries.From != 15 || len(ev.IntendedSeries.Counts) != 1 || ev.IntendedSeries.Counts[0] != 10 {
		t.Errorf("intended series %+v, want all 10 in bucket 15", ev.IntendedSeries)
	}
	if ev.IntendedPeakRate != 100 {
		t.Errorf("intended peak %.0f/s, want 100/s (10 in 100 ms)", ev.IntendedPeakRate)
	}
	if res.Series[15].Intended != 10 || res.Series[20].Intended != 0 {
		t.Errorf("series intended: bucket 15 %d, bucket 20 %d; want 10 and 0", res.Series[15].Intended, res.Series[20].Intended)
	}
	lag := res.Histograms[DialLag]
	if lag.TotalCount() != 11 || lag.Max() < 899_000 || lag.Max() > 901_000 {
		t.Errorf("dial lag: %d values, max %d µs; want 11, 900 ms", lag.TotalCount(), lag.Max())
	}
	if ev.DialLag.TotalCount() != 11 {
		t.Errorf("event dial lag: %d values, want 11", ev.DialLag.TotalCount())
	}
	b := res.Breakdown
	if b.Reconnects != 1 || b.Total() != 2*time.Second || ev.Breakdown != b {
		t.Errorf("breakdown %+v (event %+v), want one reconnect of 2 s", b, ev.Breakdown)
	}
}

// The generator is judged by the p99 of its dial lag against max(5 ms, 5%
// of the latency it is compared with).
func TestJudgeGenerator(t *testing.T) {
	if LagBoundOf(0) != 5*time.Millisecond || LagBoundOf(50*time.Millisecond) != 5*time.Millisecond || LagBoundOf(2*time.Second) != 100*time.Millisecond {
		t.Fatalf("bounds: %v %v %v", LagBoundOf(0), LagBoundOf(50*time.Millisecond), LagBoundOf(2*time.Second))
	}
	lagged := func(us int64) *Results {
		r := &Results{}
		for m := range r.Histograms {
			r.Histograms[m] = NewHistogram()
		}
		t99 := 2 * time.Second
		ev := EventReport{Index: 3, T99: &t99, DialLag: NewHistogram()}
		for range 100 {
			_ = ev.DialLag.RecordValue(us)
			_ = r.Histograms[DialLag].RecordValue(us)
			_ = r.Histograms[Reconnect].RecordValue(t99.Microseconds())
		}
		r.Events = []EventReport{ev}
		r.judgeGenerator()
		return r
	}
	if r := lagged(99_000); r.Generator.Limited || r.Events[0].GeneratorLimited {
		t.Errorf("99 ms of lag against a bound of 100 ms: judged limited (%+v)", r.Generator)
	}
	r := lagged(150_000)
	if !r.Generator.Limited || !r.Events[0].GeneratorLimited || len(r.Generator.Events) != 1 || r.Generator.Events[0] != 3 {
		t.Errorf("150 ms of lag against a bound of 100 ms: %+v, event limited %v", r.Generator, r.Events[0].GeneratorLimited)
	}
}

// A bucket's CPU is the CPU time used since the previous sample over the
// time since it, times the cores; an event whose recovery kept the cores
// 90% busy shaped the generator, whatever its dial lag.
func TestCPUSaturation(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 10 * time.Second, Cores: 2, Shards: 1,
		Events: []EventPlan{{Action: "restart", Node: -1, Code: 1012, Window: time.Second}}})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.SampleCPU(at(0), CPUSample{})
	used := time.Duration(0)
	// Sample b, at the end of bucket b-1, covers that bucket: the interval
	// since the sample before is centred in it.
	for b := 1; b <= 30; b++ {
		busy := 40 * time.Millisecond // 20% of 2 cores over 100 ms
		if b > 10 && b <= 20 {        // buckets 10 to 19: the event's recovery, [1 s, 1.9 s]
			busy = 190 * time.Millisecond // 95%
		}
		used += busy
		r.SampleCPU(at(time.Duration(b)*100*time.Millisecond), CPUSample{Process: used})
	}
	r.BeginEvent(0, at(time.Second))
	s := r.Shard(0)
	s.Close(at(time.Second), 1012, 0)
	s.Attempt(at(time.Second), at(time.Second), 0, true, false)
	s.Reconnected(at(1900*time.Millisecond), at(time.Second), 0, ReconnectParts{Handshake: 900 * time.Millisecond})
	res := r.Results(start, 4*time.Second)
	if res.Series[9].CPU != 20 || res.Series[10].CPU != 95 || res.Series[19].CPU != 95 || res.Series[20].CPU != 20 || res.Series[35].CPU != -1 || res.Series[15].MachineCPU != -1 {
		t.Errorf("CPU by bucket: 9 %d, 10 %d, 19 %d, 20 %d, 35 %d; want 20, 95, 95, 20, -1 (not sampled)",
			res.Series[9].CPU, res.Series[10].CPU, res.Series[19].CPU, res.Series[20].CPU, res.Series[35].CPU)
	}
	ev := res.Events[0]
	if ev.CPUBusy == nil || *ev.CPUBusy < 90 || !ev.CPUSaturated || !ev.GeneratorLimited || ev.LagP99() > ev.LagBound {
		t.Errorf("event: CPU %v%% busy, saturated %v, limited %v, lag p99 %v (bound %v); want ≥ 90%%, saturated by the CPU alone",
			ev.CPUBusy, ev.CPUSaturated, ev.GeneratorLimited, ev.LagP99(), ev.LagBound)
	}
	if !res.Generator.Limited || len(res.Generator.CPUEvents) != 1 {
		t.Errorf("run verdict %+v, want limited by event 0's CPU", res.Generator)
	}
}

// Attempts that failed on the generator's own ports or files shaped the
// event and the run, whatever the lag and the CPU.
func TestLocalFailuresLimit(t *testing.T) {
	r := &Results{Counters: Counters{ConnectFailures: map[string]int64{"too_many_open_files": 3, "refused": 9}}}
	for m := range r.Histograms {
		r.Histograms[m] = NewHistogram()
	}
	r.Events = []EventReport{{Index: 0, FailedAttempts: map[string]int64{"too_many_open_files": 3}}, {Index: 1, FailedAttempts: map[string]int64{"refused": 9}}}
	r.judgeGenerator()
	if !r.Generator.Limited || r.Generator.LocalFailures != 3 || !r.Events[0].GeneratorLimited || r.Events[1].GeneratorLimited {
		t.Errorf("verdict %+v, events limited %v %v; want the run and event 0 limited by 3 local failures",
			r.Generator, r.Events[0].GeneratorLimited, r.Events[1].GeneratorLimited)
	}
}

// Failures count by reason whichever array or map holds them.
func TestReasonCounts(t *testing.T) {
	var c reasonCounts
	for _, r := range []Reason{Refused, Refused, HTTPStatus(503), HTTPStatus(100), HTTPStatus(599), HTTPStatus(999), HTTPStatus(42), TooManyOpenFiles} {
		c.add(r, 1)
	}
	var d reasonCounts
	d.merge(&c)
	d.add(HTTPStatus(503), 2)
	got := map[string]int64{}
	d.addTo(got)
	want := map[string]int64{"refused": 2, "http_503": 3, "http_100": 1, "http_599": 1, "http_999": 1, "http_42": 1, "too_many_open_files": 1}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (%v)", k, got[k], v, got)
		}
	}
}

// A run is judged by its events and its own limits, not by its ramp: a
// start that kept clients waiting is the profile's pace, and no herd of its
// is analysed. An event without attempts has no herd for a busy CPU to
// shape: its closes may be what kept the CPU busy.
func TestVerdictIgnoresRampAndIdleEvents(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 10 * time.Second, Cores: 1, Shards: 1,
		Events: []EventPlan{{Action: "close", Node: -1, Code: 1000, Window: time.Second}}})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	s := r.Shard(0)
	for range 100 {
		s.Attempt(at(0), at(300*time.Millisecond), -1, true, true) // a ramp 300 ms late
	}
	r.SampleCPU(at(-time.Millisecond), CPUSample{})
	for b := 1; b <= 20; b++ {
		r.SampleCPU(at(time.Duration(b)*100*time.Millisecond+50*time.Millisecond), CPUSample{Process: time.Duration(b) * 99 * time.Millisecond})
	}
	r.BeginEvent(0, at(time.Second))
	s.Close(at(time.Second), 1000, 0) // no reconnect: the client stops
	res := r.Results(start, 3*time.Second)
	if res.Generator.Limited || res.Events[0].GeneratorLimited || res.Events[0].CPUSaturated {
		t.Errorf("verdict %+v, event limited %v, CPU saturated %v: want neither the ramp's lag nor an event without attempts judged",
			res.Generator, res.Events[0].GeneratorLimited, res.Events[0].CPUSaturated)
	}
	if res.Generator.LagP99 < 299*time.Millisecond {
		t.Errorf("the run's dial lag p99 %v, want the ramp's 300 ms reported", res.Generator.LagP99)
	}
}

// A detected burst's first attempts, made before it has enough closes to
// be an event, keep their dial lag for it once it is one; those of a burst
// that never is count in the run's alone.
func TestDetectedEventKeepsEarlyLags(t *testing.T) {
	r, at := detecting(time.Second, 3, 0)
	for id := range 5 {
		t0 := at(time.Second + time.Duration(id)*10*time.Millisecond)
		ev := closeClient(r, id, t0, 1006, 0)
		r.Shard(id).Attempt(t0, t0.Add(2*time.Millisecond), ev, true, false) // no backoff: before the burst is confirmed
	}
	lone := closeClient(r, 9, at(20*time.Second), 1006, 1) // a burst of one: never an event
	r.Shard(9).Attempt(at(20*time.Second), at(20*time.Second+time.Millisecond), lone, true, false)
	res := r.Results(r.Start(), 30*time.Second)
	if len(res.Events) != 1 || res.Events[0].DialLag == nil || res.Events[0].DialLag.TotalCount() != 5 {
		t.Fatalf("events %d, the detected one's dial lags %v: want one event with all 5", len(res.Events), res.Events)
	}
	if n := res.Histograms[DialLag].TotalCount(); n != 6 {
		t.Errorf("the run's dial lags: %d, want 6 (the lone burst's too)", n)
	}
}

// A sampler that ran late and then caught up takes two samples a few µs
// apart; the CPU clocks move in steps of a scheduler tick, so that pair
// alone would read as tens of thousands of percent. The short one is
// folded into the next interval: no bucket reads over 100%.
func TestCPUSampleCatchUp(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: 10 * time.Second, Cores: 2, Shards: 1})
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r.SampleCPU(at(0), CPUSample{})
	r.SampleCPU(at(100*time.Millisecond), CPUSample{Process: 100 * time.Millisecond})
	// Late by 250 ms, with the CPU busy: both cores for 350 ms.
	r.SampleCPU(at(450*time.Millisecond), CPUSample{Process: 800 * time.Millisecond})
	// The caught-up tick 30 µs later, the clock a 4 ms tick further on.
	r.SampleCPU(at(450*time.Millisecond+30*time.Microsecond), CPUSample{Process: 804 * time.Millisecond})
	r.SampleCPU(at(550*time.Millisecond), CPUSample{Process: 904 * time.Millisecond})
	res := r.Results(start, time.Second)
	for b := range 6 {
		if c := res.Series[b].CPU; c > 100 {
			t.Errorf("bucket %d: CPU %d%%, over all the cores", b, c)
		}
	}
	if c := res.Series[5].CPU; c < 45 || c > 55 {
		t.Errorf("bucket 5: CPU %d%%, want about 50 (104 ms of CPU over 100 ms of 2 cores)", c)
	}
}
