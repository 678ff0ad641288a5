package stats

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestReasonNames(t *testing.T) {
	for _, r := range []Reason{Refused, Timeout, Reset, TLS, Other, BadHandshake, Cancelled, ScriptTimeout,
		NoSourcePort, TooManyOpenFiles, Unreachable, DNS, HTTPStatus(100), HTTPStatus(503), HTTPStatus(599)} {
		if got, ok := ParseReason(r.String()); !ok || got != r {
			t.Errorf("ParseReason(%q) = %v, %v, want %v", r.String(), got, ok, r)
		}
	}
	want := map[Reason]string{Refused: "refused", TLS: "tls", BadHandshake: "bad_handshake",
		ScriptTimeout: "script_timeout", NoSourcePort: "no_source_port", TooManyOpenFiles: "too_many_open_files",
		Unreachable: "unreachable", DNS: "dns", HTTPStatus(503): "http_503", 0: "other", -1: "other", httpBase: "other"}
	for r, name := range want {
		if r.String() != name {
			t.Errorf("Reason(%d).String() = %q, want %q", int(r), r.String(), name)
		}
	}
	for _, name := range []string{"", "Refused", "http_", "http_1", "http_99", "http_099", "http_600", "http_+50",
		"http_5030", "http_50a", "http_-50", "http_0503", " http_503", "http_503 ", "unknown"} {
		if r, ok := ParseReason(name); ok {
			t.Errorf("ParseReason(%q) = %v, want no reason", name, r)
		}
	}
}

// TestOtherMessages: a run keeps the first MaxOtherMessages distinct
// messages of its Other failures, in the order first seen, whatever shard
// they come from, and carries them in its counters.
func TestOtherMessages(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Second})
	if got := r.Results(start, time.Second).Counters.OtherFailures; got != nil {
		t.Errorf("no Other failure: messages %q, want none", got)
	}
	for i, msg := range []string{"a", "b", "a", "c", "b", "d", "e", "f", "a"} {
		r.Shard(i).Failure(start, Other, -1)
		r.Shard(i).OtherMessage(func() string { return msg })
	}
	res := r.Results(start, time.Second)
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(res.Counters.OtherFailures, want) {
		t.Errorf("messages %q, want %q", res.Counters.OtherFailures, want)
	}
	if n := res.Counters.ConnectFailures["other"]; n != 9 {
		t.Errorf("other = %d, want 9", n)
	}
}

// TestOtherMessagesConcurrent: clients on every shard record at once; the
// race detector watches, and the cap holds.
func TestOtherMessagesConcurrent(t *testing.T) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Second})
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			for i := range 50 {
				r.Shard(c).OtherMessage(func() string { return fmt.Sprint(i % 7) })
			}
		})
	}
	wg.Wait()
	got := r.Results(start, time.Second).Counters.OtherFailures
	if len(got) != MaxOtherMessages || len(slices.Compact(slices.Sorted(slices.Values(got)))) != MaxOtherMessages {
		t.Errorf("messages %q, want %d distinct", got, MaxOtherMessages)
	}
}

// TestCountersAddOtherFailures: summing counters, as merge sums segments,
// keeps the first distinct messages, in order, up to the cap.
func TestCountersAddOtherFailures(t *testing.T) {
	sum := Counters{ConnectFailures: map[string]int64{}, Closes: map[int]int64{}}
	for _, msgs := range [][]string{{"a", "b"}, nil, {"b", "c", "d"}, {"e", "f"}} {
		sum.Add(&Counters{OtherFailures: msgs})
	}
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(sum.OtherFailures, want) {
		t.Errorf("messages %q, want %q", sum.OtherFailures, want)
	}
}
