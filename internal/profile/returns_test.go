package profile

import (
	"strings"
	"testing"
)

// TestReturnsWarnings checks the warnings of clients that may not be back
// before the run ends or the next event starts, on the built-in default.
func TestReturnsWarnings(t *testing.T) {
	tests := []struct {
		name string
		sets []string
		want []string // a part of each warning, in order
	}{
		{"the default", nil, nil},
		{
			// The new user's 25 s run with the steps moved: the last batch
			// at 19s is over at 21s, and a client waits up to 5s.
			"25s, steps moved", []string{"duration=25s", "chaos.0.at=5s", "chaos.0.interval=7s", "chaos.1.at=22s"},
			[]string{"(built-in):48: chaos.0: the run may end before the clients of this rolling_restart are back: its event on node 2 at 19s lasts until 21s, then a client may wait up to 5s before it reconnects (fleet.reconnect.max of the window strategy), until 26s, but the run ends at 25s (duration), so their reconnects go unmeasured and thresholds on them may read no value; lengthen duration to 26s or more, or start the step 1s earlier"},
		},
		{
			// A batch every 6s: the clients of one may be away 7s.
			"batches too close", []string{"chaos.0.interval=6s", "chaos.1.at=30s"},
			[]string{"(built-in):48: chaos.0: the clients of this rolling_restart may not be back before its next event starts at 16s: its event on node 0 at 10s lasts until 12s, then a client may wait up to 5s before it reconnects (fleet.reconnect.max of the window strategy), until 17s, so the two herds reach the target together and each one's reconnect times include the other's load; space the step's events 7s or more apart, or shorten the clients' reconnect delay"},
		},
		{
			// A 1000 close stops its clients: nothing to wait for.
			"close stops", []string{"chaos.1.at=44s"}, nil,
		},
		{
			// The last batch's clients may be away until 33s, but the 1000
			// close at 30s makes no herd for them to meet.
			"a 1000 close is no herd", []string{"chaos.1.at=30s"}, nil,
		},
		{
			"first_delay counts", []string{"fleet.reconnect.first_delay=2s"},
			[]string{"may not be back before its next event starts at 18s: its event on node 0 at 10s lasts until 12s, then a client may wait up to 7s before it reconnects (fleet.reconnect.max of the window strategy, plus first_delay 2s), until 19s"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load("", tc.sets)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range p.Warnings {
				got = append(got, w.Error())
			}
			all := strings.Join(got, "\n")
			if len(got) != len(tc.want) {
				t.Fatalf("warnings:\n%s\nwant %d", all, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d:\n%s\nwant it to have\n%s", i, got[i], w)
				}
			}
		})
	}
}
