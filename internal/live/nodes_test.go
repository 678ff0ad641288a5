package live

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsstorm/wsstorm/internal/nodes"
)

// TestNodesFrames renders known counters: the rates are over the interval
// between two snapshots (the first from the start), the total sums the
// nodes, and every line fits 80 columns after serve's prefix.
func TestNodesFrames(t *testing.T) {
	var st Nodes
	first := st.Next(2*time.Second, []nodes.Status{
		{Index: 0, State: nodes.StateUp, Conns: 300, Accepted: 300},
		{Index: 1, State: nodes.StateUp, Conns: 290, Accepted: 300, Rejected: 4},
		{Index: 2, State: nodes.StateUp, Conns: 310, Accepted: 310},
	})
	if got := first.Nodes[1]; got.AcceptRate != 150 || got.RefuseRate != 2 {
		t.Errorf("first rates %v %v, want 150 and 2 per second since the start", got.AcceptRate, got.RefuseRate)
	}
	f := st.Next(3*time.Second, []nodes.Status{
		{Index: 0, State: nodes.StateUp, Conns: 662, Accepted: 662},
		{Index: 1, State: nodes.StateDraining, Conns: 12, Accepted: 300, Rejected: 4, Restarts: 1},
		{Index: 2, State: nodes.StateUp, Conns: 325, Accepted: 325, Restarts: 2},
	})
	want := []string{
		"serving 3.0s: 3 nodes, 2 up, 1 draining",
		"node  state     connections  accepts/s  refusals/s  restarts",
		"0     up                662        362         0.0         0",
		"1     draining           12        0.0         0.0         1",
		"2     up                325         15         0.0         2",
		"all                     999        377         0.0         3",
	}
	if got := f.TerminalLines(); !slices.Equal(got, want) {
		t.Errorf("terminal lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range f.TerminalLines() {
		if n := utf8.RuneCountInString("wsstorm serve: " + l); n >= 80 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	if got, want := f.PlainLine(), "serving 3.0s: 3 nodes, 2 up, 1 draining  connections 999  accepts 377/s  refusals 0.0/s  restarts 3"; got != want {
		t.Errorf("plain line %q, want %q", got, want)
	}
}

// TestNodesManyRows: past eight nodes, the rest are one line by state.
func TestNodesManyRows(t *testing.T) {
	var snap []nodes.Status
	for i := range 12 {
		state := nodes.StateUp
		if i >= 10 {
			state = nodes.StateDown
		}
		snap = append(snap, nodes.Status{Index: 4 + i, State: state, Conns: 10})
	}
	var st Nodes
	lines := st.Next(time.Minute+5*time.Second, snap).TerminalLines()
	want := []string{"serving 1m5s: 12 nodes, 10 up, 2 down", "and 4 nodes, 2 up, 2 down", "all                     120        0.0         0.0         0"}
	if len(lines) != 12 || lines[0] != want[0] || lines[10] != want[1] || lines[11] != want[2] || !strings.HasPrefix(lines[2], "4     up") {
		t.Errorf("lines:\n%s", strings.Join(lines, "\n"))
	}
}

// TestRunNodes: on a terminal, the view draws the nodes in place, each
// frame over the last, and clears them when its context ends; a log line
// meanwhile goes above the status.
func TestRunNodes(t *testing.T) {
	var out syncBuffer
	v := NewView(ViewOptions{Out: &out, Terminal: true, Interval: 10 * time.Millisecond, Prefix: "wsstorm serve: "})
	var polls atomic.Int64
	status := func() []nodes.Status {
		n := polls.Add(1)
		return []nodes.Status{{Index: 0, State: nodes.StateUp, Conns: n, Accepted: n}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); v.RunNodes(ctx, status) }()
	waitFor(t, "two frames", func() bool { return polls.Load() >= 2 && strings.Count(out.String(), "serving ") >= 2 })
	v.LogWriter(&out).Write([]byte("wsstorm serve: a log line\n"))
	cancel()
	<-done
	text := out.String()
	if !strings.Contains(text, "wsstorm serve: serving ") || !strings.Contains(text, "wsstorm serve: node  state") ||
		!strings.Contains(text, clearLine+"wsstorm serve: a log line\n") {
		t.Errorf("output %q", text)
	}
	// Cleared at the end: the last thing written erases the status' lines,
	// the cursor at the start of its first.
	if want := "\r" + clearLine + strings.Repeat(lineUp+clearLine, 3); !strings.HasSuffix(text, want) {
		t.Errorf("status not cleared at the end: %q", text[max(0, len(text)-80):])
	}
}
