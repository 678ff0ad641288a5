package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// intentRun restarts the only node of a target whose handshakes take
// delay, under 40 clients with a constant backoff of 2 s and maxDialing
// dials in flight, and returns the results. The series has 1 s buckets and
// the restart starts 200 ms into one, so every client's backoff ends in
// the bucket 2 s later, as long as the clients see their closes within
// 800 ms of each other.
func intentRun(t *testing.T, maxDialing int, delay time.Duration) *stats.Results {
	t.Helper()
	const clients, backoff = 40, 2 * time.Second
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0",
		Capacity: profile.Capacity{HandshakeDelay: profile.Dur(delay)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = tgt.Shutdown(ctx)
	})
	cfg := baseConfig()
	cfg.URL, cfg.Clients, cfg.MaxDialing, cfg.Backoff = tgt.URL(), clients, maxDialing, constant(backoff)
	h := runRecorded(t, tgt, cfg, stats.Config{Horizon: time.Minute, BucketWidth: time.Second,
		Events: []stats.EventPlan{{Action: "restart", Node: 0, Code: 1012}}})
	start := h.start
	waitFor(t, "all clients connected", 20*time.Second, connectedTo(h, clients))
	// 200 ms into a bucket.
	time.Sleep(time.Second - time.Since(start)%time.Second + 200*time.Millisecond)
	h.rec.BeginEvent(0, time.Now())
	closed, err := action.RestartNode(context.Background(), tgt, 0, action.RestartParams{Code: 1012})
	if err != nil || closed != clients {
		t.Fatalf("restart closed %d of %d, err %v", closed, clients, err)
	}
	waitFor(t, "clients back", 30*time.Second, func() bool { return h.reconnects() == clients && h.rec.Connected() == clients })
	return h.results()
}

// TestIntendedHerdKnownInput: clients whose backoffs all end in one bucket
// make an intended herd of all of them in that bucket, whatever the
// generator manages. Held to one dial at a time against handshakes of
// 20 ms, it starts them over about 800 ms, and says it shaped the herd; with
// room, it does not.
func TestIntendedHerdKnownInput(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxDialing int
		delay      time.Duration
		limited    bool
	}{
		{"held back", 1, 20 * time.Millisecond, true},
		{"roomy", 64, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := intentRun(t, tc.maxDialing, tc.delay)
			ev := res.Events[0]
			var nonzero []int64
			for _, v := range ev.IntendedSeries.Counts {
				if v != 0 {
					nonzero = append(nonzero, v)
				}
			}
			if ev.FirstAttempts != ev.Affected || len(nonzero) != 1 || nonzero[0] != ev.Affected {
				t.Errorf("intended herd %v (first attempts %d), want all %d clients in one bucket", ev.IntendedSeries, ev.FirstAttempts, ev.Affected)
			}
			if want := float64(ev.Affected); ev.IntendedPeakRate != want {
				t.Errorf("intended peak %.0f/s, want %.0f/s (every client in one 1 s bucket)", ev.IntendedPeakRate, want)
			}
			t.Logf("achieved peak %.0f/s, intended %.0f/s; event dial lag p99 %v, bound %v; run lag p99 %v, bound %v",
				ev.PeakAttemptRate, ev.IntendedPeakRate, ev.LagP99(), ev.LagBound, res.Generator.LagP99, res.Generator.Bound)
			// Held back, clients queue for the one slot; with room, none does.
			if queued := ev.Queued > 0; queued != tc.limited {
				t.Errorf("%d of %d attempts queued for a dial slot, want some: %v", ev.Queued, ev.Attempts, tc.limited)
			}
			if ev.GeneratorLimited != tc.limited || res.Generator.Limited != tc.limited {
				t.Errorf("generator limited: event %v, run %v; want %v", ev.GeneratorLimited, res.Generator.Limited, tc.limited)
			}
			checkBreakdown(t, res, 2*time.Second)
		})
	}
}

// checkBreakdown checks that the parts of the reconnects add up to their
// latencies, and that with no failures the backoffs are the constant one.
func checkBreakdown(t *testing.T, res *stats.Results, backoff time.Duration) {
	t.Helper()
	b := res.Breakdown
	rc := res.Histograms[stats.Reconnect]
	if b.Reconnects != rc.TotalCount() {
		t.Fatalf("breakdown of %d reconnects, %d recorded", b.Reconnects, rc.TotalCount())
	}
	if b.Backoff != time.Duration(b.Reconnects)*backoff || b.Failed != 0 {
		t.Errorf("backoff sum %v, failed %v; want %d × %v and none", b.Backoff, b.Failed, b.Reconnects, backoff)
	}
	// HDR's mean is exact to its 3 significant digits.
	mean := b.Total() / time.Duration(b.Reconnects)
	hdr := time.Duration(rc.Mean() * float64(time.Microsecond))
	if d := mean - hdr; d > hdr/500+time.Microsecond || -d > hdr/500+time.Microsecond {
		t.Errorf("parts add up to a mean reconnect of %v, the histogram's mean is %v", mean, hdr)
	}
}
