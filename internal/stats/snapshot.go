package stats

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot is a run's totals at one moment, for what watches a run while it
// goes on (a live status, a metrics scrape). Its maps are its own.
type Snapshot struct {
	Elapsed       time.Duration // since the run's start; frozen once the series has ended
	Connected     int64
	PeakConnected int64
	Attempts      int64
	Connects      int64
	Failures      map[string]int64 // by reason, as Reason.String spells it
	Closes        map[int]int64    // closes observed by clients, by close code
	ClientCloses  int64
	Reconnects    int64
	GaveUp        int64
	Sent          int64
	Received      int64
	// Events are the chaos events started so far, in index order: the
	// planned ones, then the detected ones with MinCloses closes so far.
	Events []EventStart
}

// EventStart is a chaos event that has started (a detected one: that has
// been confirmed, starting at its first close).
type EventStart struct {
	Index  int
	Action string
	Node   int // -1: all nodes
	Code   int
	Start  time.Duration // from the run's start
}

// Snapshot returns the totals recorded so far. It holds each shard's lock
// only while copying its counters, so clients recording meanwhile wait at
// most that long; the cost of the copy falls on the caller.
func (r *Recorder) Snapshot() Snapshot {
	s := Snapshot{
		Elapsed:       time.Since(r.start),
		Connected:     r.connected.Load(),
		PeakConnected: r.peak.Load(),
		Failures:      map[string]int64{},
		Closes:        map[int]int64{},
	}
	if end := r.seriesEnd.Load(); end != 0 {
		s.Elapsed = time.Duration(end - 1)
	}
	c := Counters{ConnectFailures: s.Failures, Closes: s.Closes}
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		sh.addCounts(&c)
		sh.mu.Unlock()
	}
	s.Attempts, s.Connects, s.ClientCloses = c.ConnectAttempts, c.Connects, c.ClientCloses
	s.Reconnects, s.GaveUp = c.Reconnects, c.GaveUp
	s.Sent, s.Received = c.MessagesSent, c.MessagesReceived
	for i, p := range r.plans {
		if start, ok := r.EventStarted(i); ok {
			s.Events = append(s.Events, EventStart{Index: i, Action: p.Action, Node: p.Node, Code: p.Code, Start: start})
		}
	}
	if r.det != nil {
		s.Events = append(s.Events, r.det.events()...)
	}
	return s
}

// SnapshotHistogram returns a new histogram holding every value of m
// recorded so far, merged from the shards one lock at a time.
func (r *Recorder) SnapshotHistogram(m Metric) *hdrhistogram.Histogram {
	h := NewHistogram()
	if m < 0 || m >= numMetrics {
		return h
	}
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		if m == DialLag {
			sh.mergeLag(h)
		} else {
			h.Merge(sh.hist[m])
		}
		sh.mu.Unlock()
	}
	return h
}

// Plan returns the chaos events planned for the run, in index order.
func (r *Recorder) Plan() []EventPlan {
	return append([]EventPlan(nil), r.plans...)
}
