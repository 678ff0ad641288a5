package lines

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// countingWriter records each Write it gets.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, string(b))
	return len(b), nil
}

// TestPrefixedNests: nested prefixes reach the bottom writer with their line
// in one Write, in order, secrets redacted.
func TestPrefixedNests(t *testing.T) {
	var out countingWriter
	w := Prefixed(Redacted(Prefixed(&out, "wsstorm: "), func(s string) string {
		return strings.ReplaceAll(s, "s3cret", "[redacted]")
	}), "[a run 1] ")
	n, err := fmt.Fprintf(w, "dial ws://u:s3cret@h/: refused\n")
	if err != nil || n != len("dial ws://u:s3cret@h/: refused\n") {
		t.Fatalf("wrote %d, %v", n, err)
	}
	want := []string{"wsstorm: [a run 1] dial ws://u:[redacted]@h/: refused\n"}
	if len(out.writes) != 1 || out.writes[0] != want[0] {
		t.Errorf("writes %q, want %q", out.writes, want)
	}
}

// TestLockedKeepsLinesWhole: lines written at once by many goroutines each
// arrive whole.
func TestLockedKeepsLinesWhole(t *testing.T) {
	var out countingWriter
	w := Prefixed(Locked(&out), "p: ")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				fmt.Fprintf(w, "line %d.%d\n", i, j)
			}
		})
	}
	wg.Wait()
	if len(out.writes) != 800 {
		t.Fatalf("%d writes, want 800", len(out.writes))
	}
	for _, s := range out.writes {
		if !strings.HasPrefix(s, "p: line ") || strings.Count(s, "\n") != 1 {
			t.Errorf("a line was split: %q", s)
		}
	}
}
