package action

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestCloseCount(t *testing.T) {
	tests := []struct {
		fraction float64
		open     int
		want     int
	}{
		{0.5, 10, 5},
		{0.25, 10, 3}, // 2.5 rounds up
		{0.01, 10, 1}, // at least one
		{1, 10, 10},
		{0, 10, 0},
		{0.5, 0, 0},
		{0.5, 1, 1},
	}
	for _, tt := range tests {
		if got := CloseCount(tt.fraction, tt.open); got != tt.want {
			t.Errorf("CloseCount(%v, %d) = %d, want %d", tt.fraction, tt.open, got, tt.want)
		}
	}
}

func TestDrainOffset(t *testing.T) {
	for _, tc := range []struct {
		drain time.Duration
		i, k  int
		want  time.Duration
	}{
		{time.Second, 0, 5, 0},
		{time.Second, 4, 5, time.Second},
		{time.Second, 2, 5, 500 * time.Millisecond},
		{time.Second, 0, 1, 0},
		{0, 3, 5, 0},
	} {
		if got := DrainOffset(tc.drain, tc.i, tc.k); got != tc.want {
			t.Errorf("DrainOffset(%v, %d, %d) = %v, want %v", tc.drain, tc.i, tc.k, got, tc.want)
		}
	}
}

func TestCloseCode(t *testing.T) {
	if c, err := CloseCode(0, 1012, ""); c != 1012 || err != nil {
		t.Errorf("default: %d, %v", c, err)
	}
	if _, err := CloseCode(999, 1012, ""); err == nil {
		t.Error("999 accepted")
	}
	if _, err := CloseCode(1000, 1012, string(make([]byte, MaxCloseReason+1))); err == nil {
		t.Error("a reason too long for a close frame accepted")
	}
}

func TestCloseEach(t *testing.T) {
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	if n := CloseEach(items, func(i int) bool { return i%2 == 0 }); n != 50 {
		t.Errorf("closed %d, want 50", n)
	}
	if n := CloseEach(items[:1], func(int) bool { return true }); n != 1 {
		t.Errorf("closed %d, want 1", n)
	}
}

// TestSelect: a Fraction of 0 takes every connection in the order they
// opened; a share is the same pick from the same seed, of the count
// CloseCount gives.
func TestSelect(t *testing.T) {
	open := func() []int { return []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} }
	if got := Select(All(-1), open()); len(got) != 10 || got[0] != 1 || got[9] != 10 {
		t.Errorf("Select(All) = %v, want every one in order", got)
	}
	a := Select(Pick{Node: -1, Fraction: 0.3, Seed: 7}, open())
	b := Select(Pick{Node: -1, Fraction: 0.3, Seed: 7}, open())
	if len(a) != 3 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("Select(0.3, seed 7) = %v and %v, want the same 3", a, b)
	}
}

// TestSpreadStopsWhenTheTargetStops: a spread that the target's shutdown
// cuts short ends with the target's error and the count so far.
func TestSpreadStopsWhenTheTargetStops(t *testing.T) {
	stopped := make(chan struct{})
	errStopped := errors.New("stopped")
	var ended int
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(stopped)
	}()
	n, err := Spread(context.Background(), stopped, func() error { return errStopped }, All(-1), []int{1, 2, 3}, time.Hour,
		func(batch []int) int { ended += len(batch); return len(batch) })
	if !errors.Is(err, errStopped) || n != 1 || ended != 1 {
		t.Errorf("Spread = %d, %v (ended %d); want the first ended, then the target's error", n, err, ended)
	}
}
