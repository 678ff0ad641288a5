package stats

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DetectedAction is the Action of an event found by detection rather than
// planned.
const DetectedAction = "detected"

// DefaultMaxDetected is how many bursts a Recorder tracks when
// DetectConfig.MaxEvents is 0.
const DefaultMaxDetected = 1024

// DetectConfig turns on the detection of events in the closes themselves,
// for runs in which something else restarts the servers: closes with one
// code that follow each other within Gap form a burst, and a burst of at
// least MinCloses closes is an event, analysed like a planned one.
type DetectConfig struct {
	Gap       time.Duration // closes of one code at most this far apart belong to one burst
	MinCloses int           // a burst with fewer closes is not an event (at least 1)
	// MaxEvents bounds the bursts tracked, events or not (0:
	// DefaultMaxDetected): the closes of later bursts are not attributed,
	// and counted as such.
	MaxEvents int
}

// DetectReport says what detection saw besides the events it reports.
type DetectReport struct {
	Gap       time.Duration
	MinCloses int
	// DroppedBursts are the bursts with fewer than MinCloses closes, and
	// DroppedCloses their closes: not events, though their clients count in
	// the counters and histograms like any other.
	DroppedBursts int
	DroppedCloses int64
	// Unattributed are the closes not attributed to any burst because
	// MaxEvents bursts had been tracked already.
	Unattributed int64
}

// burst is a run of closes with one code, each within the gap of the one
// before; offsets are from the run's start.
type burst struct {
	code        int
	start, last time.Duration
	node        int // the node of every close so far; -1: unknown or several
	closes      int64
}

// detector groups closes into bursts online. Burst k is event slot base+k
// of the recorder: its start lives in eventStart like a planned event's, and
// the shards record its clients like a planned event's.
type detector struct {
	gap       time.Duration
	minCloses int64
	base      int
	confirmed []atomic.Bool   // per burst: it has MinCloses closes
	notify    chan EventStart // each burst once it is confirmed; never blocks (cap MaxEvents)

	mu           sync.Mutex
	open         map[int]int // code → its latest burst
	bursts       []burst     // in creation order; cap MaxEvents
	unattributed int64
}

func newDetector(cfg DetectConfig, base int) *detector {
	n := cfg.MaxEvents
	if n <= 0 {
		n = DefaultMaxDetected
	}
	return &detector{
		gap:       cfg.Gap,
		minCloses: int64(max(cfg.MinCloses, 1)),
		base:      base,
		confirmed: make([]atomic.Bool, n),
		notify:    make(chan EventStart, n),
		open:      make(map[int]int),
		bursts:    make([]burst, 0, n),
	}
}

// slots is how many event slots the detector may use after base.
func (d *detector) slots() int { return cap(d.bursts) }

// attribute returns the event slot of a close at off with code on node (-1:
// unknown): the latest burst of code when the close is within the gap of its
// last close, else a new burst; -1 once MaxEvents bursts exist.
func (d *detector) attribute(r *Recorder, off time.Duration, code, node int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k, ok := d.open[code]; ok {
		b := &d.bursts[k]
		// Closes may reach here slightly out of order: one observed a moment
		// before the burst's last close belongs to it too.
		if off-b.last <= d.gap {
			b.closes++
			b.last = max(b.last, off)
			if off < b.start {
				b.start = off
				r.eventStart[d.base+k].Store(int64(off) + 1)
			}
			if node != b.node {
				b.node = -1
			}
			if b.closes == d.minCloses {
				d.confirm(k)
			}
			return d.base + k
		}
	}
	if len(d.bursts) == cap(d.bursts) {
		d.unattributed++
		return -1
	}
	k := len(d.bursts)
	d.bursts = append(d.bursts, burst{code: code, start: off, last: off, node: node, closes: 1})
	d.open[code] = k
	r.eventStart[d.base+k].Store(int64(off) + 1)
	if d.minCloses <= 1 {
		d.confirm(k)
	}
	return d.base + k
}

// confirm makes burst k an event and announces it, numbered as the results
// will number it unless a burst that started earlier is confirmed later
// (bursts of two codes overlapping). d.mu is held.
func (d *detector) confirm(k int) {
	d.confirmed[k].Store(true)
	b := &d.bursts[k]
	rank := 0
	for j := range d.bursts {
		if j != k && d.confirmed[j].Load() && before(&d.bursts[j], j, b, k) {
			rank++
		}
	}
	select {
	case d.notify <- EventStart{Index: d.base + rank, Action: DetectedAction, Node: b.node, Code: b.code, Start: b.start}:
	default: // cannot happen: one send per burst, cap MaxEvents
	}
}

// before orders bursts by start, then by creation.
func before(a *burst, ka int, b *burst, kb int) bool {
	return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(ka, kb)) < 0
}

// isConfirmed reports whether event slot ev is a confirmed burst.
func (d *detector) isConfirmed(ev int) bool {
	k := ev - d.base
	return k >= 0 && k < len(d.confirmed) && d.confirmed[k].Load()
}

// detectedBurst is a burst as Results and Snapshot see it.
type detectedBurst struct {
	slot int
	burst
}

// snapshot returns every burst so far, in start order, and the unattributed
// closes.
func (d *detector) snapshot() ([]detectedBurst, int64) {
	d.mu.Lock()
	out := make([]detectedBurst, len(d.bursts))
	for k, b := range d.bursts {
		out[k] = detectedBurst{slot: d.base + k, burst: b}
	}
	unattributed := d.unattributed
	d.mu.Unlock()
	slices.SortStableFunc(out, func(a, b detectedBurst) int { return cmp.Compare(a.start, b.start) })
	return out, unattributed
}

// events returns the confirmed bursts as started events, in start order,
// numbered from base.
func (d *detector) events() []EventStart {
	all, _ := d.snapshot()
	var out []EventStart
	for _, b := range all {
		if b.closes >= d.minCloses {
			out = append(out, EventStart{Index: d.base + len(out), Action: DetectedAction, Node: b.node, Code: b.code, Start: b.start})
		}
	}
	return out
}

// Detected returns a channel that receives each detected event once it has
// MinCloses closes, numbered as Snapshot numbers it; nil when the recorder
// does not detect. It never blocks the clients: it holds every event the
// recorder can detect.
func (r *Recorder) Detected() <-chan EventStart {
	if r.det == nil {
		return nil
	}
	return r.det.notify
}
