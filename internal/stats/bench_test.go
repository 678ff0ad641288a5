package stats

import (
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecordEcho is the hottest path: one timed echo per message.
func BenchmarkRecordEcho(b *testing.B) {
	r := New(Config{Start: time.Now(), Horizon: time.Minute})
	s := r.Shard(0)
	b.ReportAllocs()
	for b.Loop() {
		s.Echo(1500 * time.Microsecond)
	}
}

// BenchmarkRecordReconnect is one client's reconnect after a chaos event:
// close, a failed and a successful attempt, reconnect, recovery.
func BenchmarkRecordReconnect(b *testing.B) {
	start := time.Now()
	r := New(Config{Start: start, Horizon: time.Minute, Events: []EventPlan{{Code: 1012, Node: -1}}})
	r.BeginEvent(0, start)
	s := r.Shard(0)
	now := start.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		s.Close(now, 1012, 0)
		s.Attempt(now, now, 0, false, false)
		s.Failure(now, HTTPStatus(503), 0)
		s.Attempt(now, now, 0, false, false)
		s.Connect(now, time.Millisecond)
		s.Reconnected(now, start, 0, ReconnectParts{})
		s.Recovered(2 * time.Millisecond)
	}
}

// BenchmarkRecordParallel records echoes from every P onto its own shard.
func BenchmarkRecordParallel(b *testing.B) {
	r := New(Config{Start: time.Now(), Horizon: time.Minute})
	b.ReportAllocs()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		s := r.Shard(int(next.Add(1)))
		for pb.Next() {
			s.Echo(1500 * time.Microsecond)
		}
	})
}
