package simulate

import (
	"slices"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// The intended herd describes the clients, not the generator: the same
// profile simulated with one dial slot and with room for every client
// gives the same intended herd (in later events, as near as the clients'
// spread over the nodes allows), while the achieved one spreads, and the generator is judged limited only with the one slot.
// With room, every attempt starts when its client meant it.
func TestIntendedHerdIgnoresTheGenerator(t *testing.T) {
	m := Model{NetworkMedianMS: 0.4, NetworkP99MS: 2, ServiceTimeMS: 0.5, Pool: PoolTarget}
	sets := []string{"fleet.clients=2000", "fleet.reconnect.strategy=constant", "fleet.reconnect.base=1s",
		"target.capacity.accept_rate=0"}
	roomy := simulate(t, load(t, "../../profiles/default.toml", append(sets, "fleet.max_dialing=2000")...), m).Results
	held := simulate(t, load(t, "../../profiles/default.toml", append(sets, "fleet.max_dialing=1")...), m).Results
	if len(roomy.Events) != len(held.Events) || len(roomy.Events) == 0 {
		t.Fatalf("%d and %d events", len(roomy.Events), len(held.Events))
	}
	if lag := roomy.Histograms[stats.DialLag]; lag.Max() > stats.HistMin {
		t.Errorf("roomy: dial lag up to %d µs, want none", lag.Max())
	}
	if roomy.Generator.Limited || !held.Generator.Limited {
		t.Errorf("generator limited: roomy %v, held %v; want false, true", roomy.Generator.Limited, held.Generator.Limited)
	}
	for i := range roomy.Events {
		r, h := &roomy.Events[i], &held.Events[i]
		if !r.ReconnectExpected || r.Affected == 0 {
			continue
		}
		t.Logf("event %d: intended peak %.0f/s (held %.0f/s), achieved %.0f/s (held %.0f/s)", i,
			r.IntendedPeakRate, h.IntendedPeakRate, r.PeakAttemptRate, h.PeakAttemptRate)
		if r.FirstAttempts != r.Affected {
			t.Errorf("event %d: %d first attempts, %d affected", i, r.FirstAttempts, r.Affected)
		}
		same := r.IntendedSeries.From == h.IntendedSeries.From && slices.Equal(r.IntendedSeries.Counts, h.IntendedSeries.Counts)
		if i == 0 && !same {
			t.Errorf("event %d: intended herd %v with room, %v with one slot: want the same", i, r.IntendedSeries, h.IntendedSeries)
		}
		// Later events find the clients spread over the nodes as the
		// generator brought them back from the earlier ones: a few more or
		// fewer on the restarted node.
		if d := r.IntendedPeakRate - h.IntendedPeakRate; i > 0 && (d > 0.02*r.IntendedPeakRate || -d > 0.02*r.IntendedPeakRate) {
			t.Errorf("event %d: intended peak %.0f/s with room, %.0f/s with one slot: want within 2%%", i, r.IntendedPeakRate, h.IntendedPeakRate)
		}
		if r.Queued != 0 || h.Queued == 0 {
			t.Errorf("event %d: %d attempts queued with room, %d with one slot; want none, then some", i, r.Queued, h.Queued)
		}
		// A constant 1 s backoff and no failures on an idle target: the
		// parts are the backoff, the wait for the slot and the handshake,
		// and they add up to the reconnects.
		for _, ev := range []*stats.EventReport{r, h} {
			b := ev.Breakdown
			if b.Reconnects != ev.Reconnected || b.Backoff != time.Duration(b.Reconnects)*time.Second || b.Failed != 0 {
				t.Errorf("event %d: breakdown %+v for %d reconnects, want a 1 s backoff each and no failures", i, b, ev.Reconnected)
			}
		}
		if h.Breakdown.Lag <= r.Breakdown.Lag {
			t.Errorf("event %d: dial lag %v with one slot, %v with room: want more", i, h.Breakdown.Lag, r.Breakdown.Lag)
		}
		if h.PeakAttemptRate >= r.PeakAttemptRate {
			t.Errorf("event %d: achieved peak %.0f/s with one slot, %.0f/s with room: want it lower", i, h.PeakAttemptRate, r.PeakAttemptRate)
		}
	}
}
