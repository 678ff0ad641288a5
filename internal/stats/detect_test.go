package stats

import (
	"sync"
	"testing"
	"time"
)

// detecting returns a recorder that detects with gap and minCloses, and a
// clock from its start.
func detecting(gap time.Duration, minCloses, maxEvents int) (*Recorder, func(time.Duration) time.Time) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute, Shards: 8,
		Detect: &DetectConfig{Gap: gap, MinCloses: minCloses, MaxEvents: maxEvents}})
	return r, func(d time.Duration) time.Time { return start.Add(d) }
}

// closeClient records what the fleet does when client id observes a close:
// attribute it, record it, and return the event.
func closeClient(r *Recorder, id int, t time.Time, code, node int) int {
	ev := r.Attribute(t, code, node)
	r.Shard(id).Close(t, code, ev)
	return ev
}

// reconnectClient records client id coming back at t after a close at closed.
func reconnectClient(r *Recorder, id int, t, closed time.Time, ev int) {
	s := r.Shard(id)
	s.Attempt(t, t, ev, false, false)
	s.Connect(t, time.Millisecond)
	s.Reconnected(t, closed, ev, ReconnectParts{})
}

// TestDetectThreeBursts: three bursts of 1012 closes, further apart than
// the gap, are three events numbered in start order, each with its own
// clients, reconnects and recovery times measured from its first close.
func TestDetectThreeBursts(t *testing.T) {
	r, at := detecting(time.Second, 5, 0)
	bursts := []struct {
		at       time.Duration
		affected int
		never    int // of them never come back
		t50      time.Duration
	}{
		// Client j of a burst closes at j ms and comes back at
		// 100 ms + j·10 ms: t50 is the ceil(n/2)-th of those.
		{10 * time.Second, 20, 0, 190 * time.Millisecond},
		{15 * time.Second, 30, 0, 240 * time.Millisecond},
		{20 * time.Second, 50, 5, 340 * time.Millisecond},
	}
	for id := range 100 {
		r.Shard(id).Connect(at(time.Second), time.Millisecond)
	}
	id := 0
	for _, b := range bursts {
		ev0 := -2
		for j := range b.affected {
			closed := at(b.at + time.Duration(j)*time.Millisecond)
			ev := closeClient(r, id+j, closed, 1012, j%2)
			if ev0 == -2 {
				ev0 = ev
			}
			if ev != ev0 || ev < 0 {
				t.Fatalf("burst at %v: close %d attributed to %d, the first to %d", b.at, j, ev, ev0)
			}
			if j >= b.affected-b.never {
				continue
			}
			back := at(b.at + 100*time.Millisecond + time.Duration(j)*10*time.Millisecond)
			reconnectClient(r, id+j, back, closed, ev)
		}
		id += b.affected
	}
	res := r.Results(time.Now(), 30*time.Second)
	if len(res.Events) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(res.Events), res.Events)
	}
	for i, b := range bursts {
		e := res.Events[i]
		if e.Index != i || e.Action != DetectedAction || e.Code != 1012 || e.Node != -1 || e.At != b.at {
			t.Errorf("event %d: index %d action %q code %d node %d at %v; want %d detected 1012 -1 %v",
				i, e.Index, e.Action, e.Code, e.Node, e.At, i, b.at)
		}
		if e.Affected != int64(b.affected) || e.Reconnected != int64(b.affected-b.never) || e.NeverReconnected != int64(b.never) {
			t.Errorf("event %d: affected/reconnected/never %d/%d/%d, want %d/%d/%d",
				i, e.Affected, e.Reconnected, e.NeverReconnected, b.affected, b.affected-b.never, b.never)
		}
		dur(t, "t50", e.T50, b.t50)
		if n := e.ReconnectAt.TotalCount(); n != e.Reconnected {
			t.Errorf("event %d: recovery curve holds %d reconnects, want %d", i, n, e.Reconnected)
		}
		approx(t, "attempts_per_client", e.AttemptsPerClient, float64(b.affected-b.never)/float64(b.affected), 1e-9)
	}
	if res.Events[2].T100 != nil {
		t.Errorf("t100 of the last event %v, want none: 5 clients never came back", *res.Events[2].T100)
	}
	if d := res.Detect; d == nil || d.DroppedBursts != 0 || d.Unattributed != 0 || d.Gap != time.Second || d.MinCloses != 5 {
		t.Errorf("detect report %+v", d)
	}
	if res.Counters.Closes[1012] != 100 || res.Counters.Reconnects != 95 {
		t.Errorf("counters %+v", res.Counters)
	}
}

// TestDetectDropsSmallBursts: a burst with fewer than min_closes closes is
// no event, and the events after it are numbered without it; its clients
// still count in the counters and histograms.
func TestDetectDropsSmallBursts(t *testing.T) {
	r, at := detecting(time.Second, 5, 0)
	id := 0
	burst := func(from time.Duration, n int) {
		for j := range n {
			closed := at(from + time.Duration(j)*100*time.Millisecond)
			ev := closeClient(r, id, closed, 1006, 0)
			reconnectClient(r, id, closed.Add(time.Second), closed, ev)
			id++
		}
	}
	burst(2*time.Second, 4) // one short of an event
	burst(5*time.Second, 5)
	burst(9*time.Second, 1)
	res := r.Results(time.Now(), 12*time.Second)
	if len(res.Events) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(res.Events), res.Events)
	}
	if e := res.Events[0]; e.Index != 0 || e.At != 5*time.Second || e.Affected != 5 || e.Node != 0 {
		t.Errorf("event %+v; want index 0 at 5s, 5 affected, all on node 0", e)
	}
	if d := res.Detect; d.DroppedBursts != 2 || d.DroppedCloses != 5 {
		t.Errorf("dropped %d bursts with %d closes, want 2 with 5", d.DroppedBursts, d.DroppedCloses)
	}
	if res.Counters.Closes[1006] != 10 || res.Histograms[Reconnect].TotalCount() != 10 {
		t.Errorf("closes %d, reconnects recorded %d; want all 10", res.Counters.Closes[1006], res.Histograms[Reconnect].TotalCount())
	}
}

// TestDetectCodesApart: closes of two codes interleaved in time make one
// event per code.
func TestDetectCodesApart(t *testing.T) {
	r, at := detecting(time.Second, 5, 0)
	for j := range 20 {
		code := 1012
		if j%2 == 1 {
			code = 1001
		}
		closeClient(r, j, at(3*time.Second+time.Duration(j)*50*time.Millisecond), code, 1)
	}
	res := r.Results(time.Now(), 5*time.Second)
	if len(res.Events) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(res.Events), res.Events)
	}
	for i, want := range []struct {
		code int
		at   time.Duration
	}{{1012, 3 * time.Second}, {1001, 3*time.Second + 50*time.Millisecond}} {
		e := res.Events[i]
		if e.Index != i || e.Code != want.code || e.At != want.at || e.Affected != 10 || e.Node != 1 {
			t.Errorf("event %d = %+v; want code %d at %v, 10 affected on node 1", i, e, want.code, want.at)
		}
	}
}

// TestDetectGap: closes exactly the gap apart belong to one burst; a
// nanosecond more starts another.
func TestDetectGap(t *testing.T) {
	const gap = 500 * time.Millisecond
	for _, tc := range []struct {
		name   string
		step   time.Duration
		events int
	}{
		{"well within", gap / 2, 1},
		{"just under", gap - time.Microsecond, 1},
		{"exactly", gap, 1},
		{"just over", gap + time.Microsecond, 0}, // 10 bursts of one close each
		{"well over", 2 * gap, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, at := detecting(gap, 5, 0)
			for j := range 10 {
				closeClient(r, j, at(time.Second+time.Duration(j)*tc.step), 1012, -1)
			}
			res := r.Results(time.Now(), time.Minute)
			if len(res.Events) != tc.events {
				t.Fatalf("%d events, want %d", len(res.Events), tc.events)
			}
			if tc.events == 1 && res.Events[0].Affected != 10 {
				t.Errorf("affected %d, want 10", res.Events[0].Affected)
			}
			if tc.events == 0 && (res.Detect.DroppedBursts != 10 || res.Detect.DroppedCloses != 10) {
				t.Errorf("dropped %+v, want 10 bursts of one close", res.Detect)
			}
		})
	}
}

// TestDetectMaxEvents: past MaxEvents bursts, closes that would start a new
// one are counted as unattributed, and those continuing a burst still join it.
func TestDetectMaxEvents(t *testing.T) {
	r, at := detecting(100*time.Millisecond, 1, 3)
	for j := range 5 {
		if ev := closeClient(r, j, at(time.Duration(j+1)*time.Second), 1012, -1); (ev >= 0) != (j < 3) {
			t.Errorf("burst %d: close attributed to %d", j, ev)
		}
	}
	if ev := closeClient(r, 9, at(3*time.Second+50*time.Millisecond), 1012, -1); ev != 2 {
		t.Errorf("a close continuing the last burst went to %d, want 2", ev)
	}
	res := r.Results(time.Now(), 10*time.Second)
	if len(res.Events) != 3 || res.Events[2].Affected != 2 || res.Detect.Unattributed != 2 {
		t.Fatalf("events %d (last affected %d), unattributed %d; want 3 (2), 2", len(res.Events), res.Events[2].Affected, res.Detect.Unattributed)
	}
	if res.Counters.Closes[1012] != 6 {
		t.Errorf("closes %d, want all 6 counted", res.Counters.Closes[1012])
	}
}

// TestDetectLive: a burst shows in snapshots and on Detected once it has
// min_closes closes, not before.
func TestDetectLive(t *testing.T) {
	r, at := detecting(time.Second, 3, 0)
	for j := range 2 {
		closeClient(r, j, at(time.Second+time.Duration(j)*time.Millisecond), 1012, 0)
	}
	if ev := r.Snapshot().Events; len(ev) != 0 {
		t.Fatalf("events before confirmation: %+v", ev)
	}
	select {
	case e := <-r.Detected():
		t.Fatalf("detected before confirmation: %+v", e)
	default:
	}
	closeClient(r, 2, at(time.Second+2*time.Millisecond), 1012, 0)
	want := EventStart{Index: 0, Action: DetectedAction, Node: 0, Code: 1012, Start: time.Second}
	if ev := r.Snapshot().Events; len(ev) != 1 || ev[0] != want {
		t.Errorf("snapshot events %+v, want %+v", ev, want)
	}
	select {
	case e := <-r.Detected():
		if e != want {
			t.Errorf("detected %+v, want %+v", e, want)
		}
	default:
		t.Error("nothing on Detected after the third close")
	}
	closeClient(r, 3, at(time.Second+3*time.Millisecond), 1012, 0)
	select {
	case e := <-r.Detected():
		t.Errorf("an event announced twice: %+v", e)
	default:
	}
}

// TestDetectOffByDefault: without detection nothing changes: a close no
// planned event claims is attributed to none.
func TestDetectOffByDefault(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute})
	if ev := r.Attribute(start.Add(time.Second), 1012, 0); ev != -1 {
		t.Errorf("attributed to %d", ev)
	}
	if r.Detected() != nil || r.Results(start, time.Second).Detect != nil {
		t.Error("a recorder without detection reports detection")
	}
}

// TestDetectAfterPlanned: with planned events too, a close a planned event
// claims stays with it; the others are detected, numbered after the plan.
func TestDetectAfterPlanned(t *testing.T) {
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r := New(Config{Start: start, Horizon: time.Minute,
		Events: []EventPlan{{Action: "close", Node: -1, Code: 1000}},
		Detect: &DetectConfig{Gap: time.Second, MinCloses: 2}})
	r.BeginEvent(0, at(time.Second))
	for j := range 4 {
		code := 1000
		if j >= 2 {
			code = 1012
		}
		closeClient(r, j, at(time.Second+time.Duration(j)*time.Millisecond), code, -1)
	}
	res := r.Results(start, 5*time.Second)
	if len(res.Events) != 2 || res.Events[0].Action != "close" || res.Events[0].Affected != 2 ||
		res.Events[1].Index != 1 || res.Events[1].Action != DetectedAction || res.Events[1].Affected != 2 {
		t.Fatalf("events %+v", res.Events)
	}
}

// TestDetectConcurrent: clients on many goroutines close in three bursts
// while snapshots are taken; every close lands in its burst's event.
func TestDetectConcurrent(t *testing.T) {
	r, at := detecting(time.Second, 5, 0)
	const workers, perWorker = 16, 50
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = r.Snapshot()
			}
		}
	})
	for b := range 3 {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for j := range perWorker {
					id := w*perWorker + j
					// Times a little out of order between workers.
					closed := at(time.Duration(10*(b+1))*time.Second + time.Duration((j*workers+w)%97)*time.Millisecond)
					ev := closeClient(r, id, closed, 1012, w%2)
					reconnectClient(r, id, closed.Add(200*time.Millisecond), closed, ev)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	readers.Wait()
	res := r.Results(time.Now(), time.Minute)
	if len(res.Events) != 3 {
		t.Fatalf("%d events, want 3", len(res.Events))
	}
	for i, e := range res.Events {
		if e.Affected != workers*perWorker || e.Reconnected != workers*perWorker || e.At != time.Duration(10*(i+1))*time.Second {
			t.Errorf("event %d: affected %d reconnected %d at %v", i, e.Affected, e.Reconnected, e.At)
		}
	}
	if n := len(r.Snapshot().Events); n != 3 {
		t.Errorf("snapshot shows %d events", n)
	}
}

// TestDetectedRecordingDoesNotAllocate: once a detected event is confirmed
// and a shard has seen it, recording its clients allocates nothing.
func TestDetectedRecordingDoesNotAllocate(t *testing.T) {
	r, at := detecting(time.Second, 5, 0)
	now := at(time.Second)
	var ev int
	for range 5 {
		ev = closeClient(r, 0, now, 1012, 0)
	}
	s := r.Shard(0)
	s.Failure(now, HTTPStatus(503), ev)
	reconnectClient(r, 0, now.Add(time.Millisecond), now, ev)
	allocs := testing.AllocsPerRun(1000, func() {
		ev := r.Attribute(now, 1012, 0)
		s.Close(now, 1012, ev)
		s.Attempt(now, now, ev, false, false)
		s.Failure(now, HTTPStatus(503), ev)
		s.Reconnected(now.Add(time.Millisecond), now, ev, ReconnectParts{})
	})
	if allocs != 0 {
		t.Fatalf("recording a detected event allocates %v times per round, want 0", allocs)
	}
}
