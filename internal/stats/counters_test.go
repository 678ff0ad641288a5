package stats

import (
	"maps"
	"testing"
)

func TestCountersAdd(t *testing.T) {
	c := Counters{ConnectFailures: map[string]int64{"refused": 1}, Closes: map[int]int64{1012: 2}, Connects: 5}
	c.Add(&Counters{
		ConnectAttempts: 7, Connects: 6, ClientCloses: 1, Reconnects: 2, GaveUp: 3, MessagesSent: 4, MessagesReceived: 5,
		ConnectFailures: map[string]int64{"refused": 2, "http_503": 1}, Closes: map[int]int64{1012: 1, 1000: 4},
	})
	c.Add(&Counters{Connects: 1}) // nil maps add nothing
	if c.ConnectAttempts != 7 || c.Connects != 12 || c.ClientCloses != 1 || c.Reconnects != 2 || c.GaveUp != 3 ||
		c.MessagesSent != 4 || c.MessagesReceived != 5 {
		t.Errorf("counts %+v", c)
	}
	if want := map[string]int64{"refused": 3, "http_503": 1}; !maps.Equal(c.ConnectFailures, want) {
		t.Errorf("failures %v, want %v", c.ConnectFailures, want)
	}
	if want := map[int]int64{1012: 3, 1000: 4}; !maps.Equal(c.Closes, want) {
		t.Errorf("closes %v, want %v", c.Closes, want)
	}
}
