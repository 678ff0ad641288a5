package simulate

import (
	"fmt"
	"testing"
)

// TestSocketIOClientProfile holds what profiles/socketio-client.toml and
// docs/client-libraries.md say of it: at socket.io-client's defaults the
// herd after a restart passes the rate its [sweep] limit names and the
// target refuses handshakes with 503; with reconnectionDelay = 3000 (the
// sweep's recommendation) every restart's herd stays under the limit, no
// handshake is refused and every client comes back; and with 6000 the cap
// of 5000 ms after the jitter sends every client back at once, over the
// limit, though the delay is longer.
func TestSocketIOClientProfile(t *testing.T) {
	m := DefaultModel()
	for _, c := range []struct {
		delay    int
		overPeak bool // some restart's peak is over the limit
		refused  bool // some handshakes got 503
	}{{1000, true, true}, {3000, false, false}, {6000, true, true}} {
		t.Run(fmt.Sprint(c.delay), func(t *testing.T) {
			p := load(t, "../../profiles/socketio-client.toml", fmt.Sprintf("fleet.client_options.reconnectionDelay=%d", c.delay))
			limit := p.Sweep.MaxAttemptRate
			if limit != 1500 {
				t.Fatalf("[sweep] max_attempt_rate = %v, want 1500 (3 nodes × 500/s)", limit)
			}
			res := simulate(t, p, m).Results
			if len(res.Events) != 4 {
				t.Fatalf("%d events, want the 4 restarts", len(res.Events))
			}
			var peak float64
			var refused, never int64
			for _, e := range res.Events {
				peak = max(peak, e.PeakAttemptRate)
				refused += e.FailedAttempts["http_503"]
				never += e.NeverReconnected
			}
			if (peak > limit) != c.overPeak || (refused > 0) != c.refused {
				t.Errorf("peak %.0f attempts/s (limit %.0f), %d refused; want over the limit %v, refusals %v",
					peak, limit, refused, c.overPeak, c.refused)
			}
			if !c.overPeak && never != 0 {
				t.Errorf("%d clients never came back", never)
			}
		})
	}
}
