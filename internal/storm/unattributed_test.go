package storm

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// TestUnattributed: closes with an event's code beyond what the events took
// are counted in a warning; none when every close was taken, and none in
// observe mode, which reports its own leftovers.
func TestUnattributed(t *testing.T) {
	res := &stats.Results{
		Counters: stats.Counters{Closes: map[int]int64{1012: 139, 1000: 20, 1001: 5}},
		Events:   []stats.EventReport{{Code: 1012, Affected: 47}, {Code: 1012, Affected: 29}, {Code: 1000, Affected: 20}},
	}
	var b bytes.Buffer
	unattributed(&b, res)
	if got, want := b.String(), "warning: 63 of the 139 closes with code 1012 belong to no event"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("warning %q, want one line starting %q", got, want)
	}
	res.Events[0].Affected = 110
	b.Reset()
	unattributed(&b, res)
	if b.Len() != 0 {
		t.Errorf("every close taken, yet %q", b.String())
	}
	res.Events[0].Affected = 1
	res.Detect = &stats.DetectReport{}
	b.Reset()
	unattributed(&b, res)
	if b.Len() != 0 {
		t.Errorf("observe mode, yet %q", b.String())
	}
}
