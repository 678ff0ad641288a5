package live

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

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
// place, wrapped to the terminal's width, cleared before a log line and
// drawn again after it, and cleared at the end.
func TestViewTerminal(t *testing.T) {
	var out syncBuffer
	v := NewView(ViewOptions{Out: &out, Terminal: true, Width: func() int { return 40 }, Prefix: "ws: ", Clients: 10, Duration: time.Minute})
	f1 := Frame{Elapsed: time.Second, Duration: time.Minute, Connected: 3, Clients: 10}
	f2 := f1
	f2.Elapsed, f2.Connected = 2*time.Second, 10

	// The cursor is on the status's last line: clear it, then go up and
	// clear each line above.
	const clear4 = "\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K"
	first := "ws: 1.0s/1m0s  connected 3/10\nws:   attempts 0.0/s  failures 0.0/s\nws: closes none\nws: chaos: none"
	second := "ws: 2.0s/1m0s  connected 10/10\nws:   attempts 0.0/s  failures 0.0/s\nws: closes none\nws: chaos: none"
	v.show(f1)
	if got := out.String(); got != first {
		t.Fatalf("first draw %q", got)
	}
	v.show(f2)
	if got := out.String(); got != first+clear4+second {
		t.Fatalf("redraw %q", got)
	}
	log := v.LogWriter(&out)
	fmt.Fprint(log, "ws: node 1 restarted\n")
	want := first + clear4 + second + clear4 + "ws: node 1 restarted\n" + second
	if got := out.String(); got != want {
		t.Fatalf("log line\ngot  %q\nwant %q", got, want)
	}
	// A write without its newline keeps the status away until the line ends.
	fmt.Fprint(log, "ws: half")
	v.show(f1)
	fmt.Fprint(log, " a line\n")
	want += clear4 + "ws: half" + " a line\n" + first
	if got := out.String(); got != want {
		t.Fatalf("partial line\ngot  %q\nwant %q", got, want)
	}

	// The end of the run clears the status; later log lines pass through.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v.Run(ctx, &counting{})
	got := out.String()
	if !strings.HasSuffix(got, clear4) {
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

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     string
		width int
		want  []string
	}{
		{"no width", "aaaa  bbbb  cccc", 0, []string{"> aaaa  bbbb  cccc"}},
		{"fits", "aaaa  bbbb  cccc", 19, []string{"> aaaa  bbbb  cccc"}},
		{"between fields", "aaaa  bbbb  cccc", 18, []string{"> aaaa  bbbb", ">   cccc"}},
		{"a field a line", "aaaa  bbbb  cccc", 10, []string{"> aaaa", ">   bbbb", ">   cccc"}},
		{"a long field between words", "aa  b1 b2 b3 b4 b5  cc", 13, []string{"> aa", ">   b1 b2 b3", ">   b4 b5", ">   cc"}},
		{"a long word cut", "aa  bbbbbbbbbbbb", 10, []string{"> aa", ">   bbbbb"}},
		{"runes, not bytes", "××××  ××××", 13, []string{"> ××××  ××××"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wrap("> ", tc.s, tc.width); !slices.Equal(got, tc.want) {
				t.Errorf("wrap(%q, %d)\ngot  %q\nwant %q", tc.s, tc.width, got, tc.want)
			}
		})
	}
}

// TestViewNarrowTerminal draws a busy moment of the default profile's run:
// at 80 columns every line shows whole, and at 70 the lines break between
// their parts, so time, clients, rates, closes by code and the chaos step
// all stay visible.
func TestViewNarrowTerminal(t *testing.T) {
	st := Status{Clients: 2000, Duration: 45 * time.Second, Plan: plan}
	st.Next(stats.Snapshot{Elapsed: 19 * time.Second, Attempts: 4000, Connects: 3900})
	f := st.Next(stats.Snapshot{Elapsed: 20 * time.Second, Connected: 1354, Attempts: 4178, Connects: 4000,
		Failures: map[string]int64{"http_503": 160, "refused": 18}, Closes: map[int]int64{1000: 200, 1012: 1534},
		Events: started(2)})
	parts := []string{
		"20.0s/45.0s", "connected 1354/2000", "attempts 178/s", "failures 178/s", "closes 1000=200 1012=1534",
		"failures so far: http_503=160 refused=18",
		"chaos: #1 rolling_restart node 1 code 1012 at 18.0s", "(event 2 of 4)",
		"next: #2 rolling_restart node 2 code 1012 at 26.0s",
	}
	for _, tc := range []struct {
		width, lines int
	}{{80, 4}, {70, 7}} {
		t.Run(fmt.Sprint(tc.width), func(t *testing.T) {
			var out syncBuffer
			v := NewView(ViewOptions{Out: &out, Terminal: true, Width: func() int { return tc.width }, Prefix: "wsstorm: "})
			v.show(f)
			lines := strings.Split(out.String(), "\n")
			if len(lines) != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", len(lines), tc.lines, out.String())
			}
			for _, l := range lines {
				if n := utf8.RuneCountInString(l); n >= tc.width {
					t.Errorf("%d columns, want fewer than %d: %q", n, tc.width, l)
				}
			}
			for _, p := range parts {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, p) }) {
					t.Errorf("%q is not shown whole:\n%s", p, out.String())
				}
			}
		})
	}
}

func TestTerminalNotAFile(t *testing.T) {
	if _, ok := Terminal(&bytes.Buffer{}); ok {
		t.Error("a buffer is a terminal")
	}
}
