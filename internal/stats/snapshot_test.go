package stats

import (
	"maps"
	"sync"
	"testing"
	"time"
)

// TestSnapshotWhileRecording: snapshots taken while many clients record
// never go backwards, and the last one equals what was recorded.
func TestSnapshotWhileRecording(t *testing.T) {
	start := time.Now()
	r := New(Config{
		Start:   start,
		Horizon: time.Minute,
		Shards:  8,
		Events: []EventPlan{
			{At: time.Second, Action: "rolling_restart", Node: 1, Code: 1012},
			{At: 2 * time.Second, Action: "close", Node: -1, Code: 1000},
		},
	})
	r.BeginEvent(0, start.Add(1500*time.Millisecond))

	const clients, rounds = 64, 200
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			s := r.Shard(c)
			for i := range rounds {
				at := start.Add(time.Duration(i) * time.Millisecond)
				s.Attempt(at, at, -1, false, false)
				if i%10 == 0 {
					s.Failure(at, HTTPStatus(503), -1)
					continue
				}
				s.Connect(at, time.Duration(c+1)*time.Millisecond)
				s.Sent()
				s.Echo(time.Millisecond)
				if i%3 == 0 {
					s.ClientClose(at)
					continue
				}
				s.Close(at, 1012, 0)
				s.Reconnected(at.Add(time.Second), at, 0, ReconnectParts{})
				s.Attempt(at, at, 0, false, false) // the reconnect
				s.Connect(at, time.Millisecond)
				s.Leave(at)
			}
			s.GaveUp()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var prev Snapshot
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		s := r.Snapshot()
		if s.Attempts < prev.Attempts || s.Connects < prev.Connects || s.Reconnects < prev.Reconnects ||
			s.Closes[1012] < prev.Closes[1012] || s.Failures["http_503"] < prev.Failures["http_503"] {
			t.Fatalf("snapshot went backwards:\n%+v\nafter\n%+v", s, prev)
		}
		prev = s
	}

	s := r.Snapshot()
	// Per client: 200 rounds, 20 failing; of the 180 connecting, 60 end the
	// session themselves and 120 are closed by the event, then reconnect
	// (one more attempt and connect each) and leave.
	want := Snapshot{
		Connected:     0,
		Attempts:      clients * (rounds + 120),
		Connects:      clients * (180 + 120),
		Failures:      map[string]int64{"http_503": clients * 20},
		Closes:        map[int]int64{1012: clients * 120},
		ClientCloses:  clients * 60,
		Reconnects:    clients * 120,
		GaveUp:        clients,
		Sent:          clients * 180,
		Received:      clients * 180,
		PeakConnected: s.PeakConnected,
	}
	if s.Connected != want.Connected || s.Attempts != want.Attempts || s.Connects != want.Connects ||
		s.ClientCloses != want.ClientCloses || s.Reconnects != want.Reconnects || s.GaveUp != want.GaveUp ||
		s.Sent != want.Sent || s.Received != want.Received ||
		!maps.Equal(s.Failures, want.Failures) || !maps.Equal(s.Closes, want.Closes) {
		t.Errorf("snapshot\n%+v\nwant\n%+v", s, want)
	}
	if s.PeakConnected < 1 || s.PeakConnected > clients*2 {
		t.Errorf("peak connected %d", s.PeakConnected)
	}
	if len(s.Events) != 1 || s.Events[0] != (EventStart{Index: 0, Action: "rolling_restart", Node: 1, Code: 1012, Start: 1500 * time.Millisecond}) {
		t.Errorf("events %+v", s.Events)
	}

	// The histograms hold every value, merged from every shard.
	if h := r.SnapshotHistogram(Reconnect); h.TotalCount() != clients*120 || h.Min() < 999000 || h.Min() > 1000000 {
		t.Errorf("reconnect: count %d min %d µs", h.TotalCount(), h.Min())
	}
	h := r.SnapshotHistogram(Connect)
	if h.TotalCount() != clients*300 || h.Max() < 63500 || h.Max() > 64100 {
		t.Errorf("connect: count %d max %d µs", h.TotalCount(), h.Max())
	}
	if h := r.SnapshotHistogram(Metric(99)); h.TotalCount() != 0 {
		t.Errorf("unknown metric: %d values", h.TotalCount())
	}
	// A snapshot is a copy: changing it changes nothing recorded.
	s.Closes[1012] = 0
	if r.Snapshot().Closes[1012] != clients*120 {
		t.Error("a snapshot shares its maps with the recorder")
	}
}

// TestSnapshotElapsed: elapsed follows the clock during the run and stops
// where the series ended.
func TestSnapshotElapsed(t *testing.T) {
	start := time.Now().Add(-3 * time.Second)
	r := New(Config{Start: start, Horizon: time.Minute})
	if e := r.Snapshot().Elapsed; e < 3*time.Second {
		t.Errorf("elapsed %v, want at least 3s", e)
	}
	r.EndSeries(start.Add(2 * time.Second))
	if e := r.Snapshot().Elapsed; e != 2*time.Second {
		t.Errorf("elapsed after the end %v, want 2s", e)
	}
}

func TestPlanIsACopy(t *testing.T) {
	r := New(Config{Start: time.Now(), Events: []EventPlan{{Action: "close", Node: -1, Code: 1000}}})
	p := r.Plan()
	p[0].Code = 1
	if r.Plan()[0].Code != 1000 || len(r.Snapshot().Events) != 0 {
		t.Errorf("plan %+v", r.Plan())
	}
}

// BenchmarkSnapshot measures a snapshot of a recorder whose shards have
// seen a few codes and reasons.
func BenchmarkSnapshot(b *testing.B) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute})
	for i := range 1000 {
		s := r.Shard(i)
		s.Attempt(start, start, -1, false, false)
		s.Failure(start, Refused, -1)
		s.Close(start, 1012, -1)
	}
	for b.Loop() {
		_ = r.Snapshot()
	}
}
