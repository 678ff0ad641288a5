package live

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// syncBuffer is a bytes.Buffer safe for a view and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// counting is a Source whose every snapshot is one second later, with 100
// more attempts and 5 more 1012 closes.
type counting struct{ n atomic.Int64 }

func (c *counting) Plan() []stats.EventPlan { return plan }

func (c *counting) Snapshot() stats.Snapshot {
	n := c.n.Add(1)
	return stats.Snapshot{
		Elapsed: time.Duration(n) * time.Second, Connected: 2000 - 5*n, Attempts: 100 * n,
		Closes: map[int]int64{1012: 5 * n},
	}
}

// waitFor polls until cond holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestViewPlain: off a terminal, the view writes one whole line per
// interval, with rates over that interval, and no control sequences.
func TestViewPlain(t *testing.T) {
	var out syncBuffer
	v := NewView(ViewOptions{Out: &out, Interval: time.Millisecond, Prefix: "wsstorm: ", Clients: 2000, Duration: 45 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx, &counting{}); close(done) }()
	waitFor(t, "three status lines", func() bool { return strings.Count(out.String(), "\n") >= 3 })
	log := v.LogWriter(&out)
	fmt.Fprintln(log, "wsstorm: a log line")
	cancel()
	<-done

	got := out.String()
	if strings.Contains(got, "\x1b") || strings.Contains(got, "\r") {
		t.Fatalf("control sequences off a terminal: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	want := []string{
		"wsstorm: 1.0s/45.0s  connected 1995/2000  attempts 100/s  failures 0.0/s  closes 1012=5  chaos: next #0 rolling_restart node 0 code 1012 at 10.0s",
		"wsstorm: 2.0s/45.0s  connected 1990/2000  attempts 100/s  failures 0.0/s  closes 1012=10  chaos: next #0 rolling_restart node 0 code 1012 at 10.0s",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d\ngot  %q\nwant %q", i, lines[i], w)
		}
	}
	if !strings.Contains(got, "\nwsstorm: a log line\n") {
		t.Errorf("log line mangled: %q", got)
	}
}

func TestViewDefaultIntervals(t *testing.T) {
	if v := NewView(ViewOptions{}); v.opts.Interval != 5*time.Second {
		t.Errorf("plain interval %v", v.opts.Interval)
	}
	if v := NewView(ViewOptions{Terminal: true}); v.opts.Interval != time.Second {
		t.Errorf("terminal interval %v", v.opts.Interval)
	}
}

// TestViewTerminal checks the bytes a terminal gets: the status drawn in
// place, cleared before a log line and drawn again after it, cut to the
// terminal's width, and cleared at the end.
func TestViewTerminal(t *testing.T) {
	var out syncBuffer
	v := NewView(ViewOptions{Out: &out, Terminal: true, Width: func() int { return 40 }, Prefix: "ws: ", Clients: 10, Duration: time.Minute})
	f1 := Frame{Elapsed: time.Second, Duration: time.Minute, Connected: 3, Clients: 10, Chaos: "none"}
	f2 := f1
	f2.Elapsed, f2.Connected = 2*time.Second, 10

	// The cursor is on the status's last line: clear it, go up, clear that.
	const clear2 = "\r\x1b[2K\x1b[1A\x1b[2K"
	first := "ws: 1.0s/1m0s  connected 3/10  attempts\nws: chaos: none"
	second := "ws: 2.0s/1m0s  connected 10/10  attempt\nws: chaos: none"
	v.show(f1)
	if got := out.String(); got != first {
		t.Fatalf("first draw %q", got)
	}
	v.show(f2)
	if got := out.String(); got != first+clear2+second {
		t.Fatalf("redraw %q", got)
	}
	log := v.LogWriter(&out)
	fmt.Fprint(log, "ws: node 1 restarted\n")
	want := first + clear2 + second + clear2 + "ws: node 1 restarted\n" + second
	if got := out.String(); got != want {
		t.Fatalf("log line\ngot  %q\nwant %q", got, want)
	}
	// A write without its newline keeps the status away until the line ends.
	fmt.Fprint(log, "ws: half")
	v.show(f1)
	fmt.Fprint(log, " a line\n")
	want += clear2 + "ws: half" + " a line\n" + first
	if got := out.String(); got != want {
		t.Fatalf("partial line\ngot  %q\nwant %q", got, want)
	}

	// The end of the run clears the status; later log lines pass through.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v.Run(ctx, &counting{})
	got := out.String()
	if !strings.HasSuffix(got, clear2) {
		t.Fatalf("status not cleared at the end: %q", got[len(want):])
	}
	before := len(got)
	fmt.Fprint(log, "ws: after\n")
	if got := out.String()[before:]; got != "ws: after\n" {
		t.Fatalf("after the end %q", got)
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  string
	}{
		{"abcdef", 0, "abcdef"},
		{"abcdef", 7, "abcdef"},
		{"abcdef", 6, "abcde"},
		{"abcdef", 4, "abc"},
		{"ab×def", 4, "ab×"},
	} {
		if got := fit(tc.s, tc.width); got != tc.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestTerminalNotAFile(t *testing.T) {
	if _, ok := Terminal(&bytes.Buffer{}); ok {
		t.Error("a buffer is a terminal")
	}
}
