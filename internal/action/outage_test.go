package action

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCutShortWhileAsking: when the run ends while a target in another
// process has not yet answered a refusal or a freeze, the target may have
// acted all the same, so the action puts the node back; when the run was
// over before it asked, it asks nothing at all.
func TestCutShortWhileAsking(t *testing.T) {
	for _, tc := range []struct {
		action string
		params any
		want   string // the calls, each cut to its first two words
	}{
		{"crash", &CrashParams{Node: 1, Downtime: time.Minute}, "refuse 1\naccept 1"},
		{"freeze", &FreezeParams{Node: 1, For: time.Minute}, "freeze 1\nthaw 1"},
	} {
		ev := plan(t, tc.action, 0, tc.params, Env{Nodes: 2})[0]

		tgt := newFakeTarget(2)
		tgt.stuck = true
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := Carry(ctx, tgt, ev)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s cut short: %v, want the deadline", tc.action, err)
		}
		if got := firstWords(tgt.log()); got != tc.want {
			t.Errorf("%s cut short: calls\n%s\nwant\n%s", tc.action, tgt.log(), tc.want)
		}

		tgt = newFakeTarget(2)
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		if _, err := Carry(ctx, tgt, ev); !errors.Is(err, context.Canceled) || tgt.log() != "" {
			t.Errorf("%s over before it began: %v, calls %q; want context.Canceled and none", tc.action, err, tgt.log())
		}
	}
}

// firstWords keeps the first two words of each line of calls: the call and
// its node.
func firstWords(calls string) string {
	lines := strings.Split(calls, "\n")
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 2 {
			lines[i] = f[0] + " " + f[1]
		}
	}
	return strings.Join(lines, "\n")
}
