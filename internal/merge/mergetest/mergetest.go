// Package mergetest writes the results of one known run twice, as one
// process would have written them and split into segments as `wsstorm run
// --segment I/N` writes them, for the tests of merging. Both come from real
// stats.Recorders fed the same client records.
package mergetest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Start is the run's wall-clock start; its fraction of a millisecond is
// something summary.json drops and segment.json keeps.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 123_456_789, time.UTC)

// Clients is the size of the fleet.
const Clients = 30

// Duration is the run's length.
const Duration = 8 * time.Second

// Sets are the --set overrides of the built-in profile the run is of.
var Sets = []string{"fleet.clients=30", "duration=8s", "chaos.0.at=2s", "chaos.0.nodes=[0]", "chaos.0.downtime=500ms", "chaos.1.at=6s"}

// Plans are the run's chaos events: a restart of node 0 at 2 s, closing the
// even clients with 1012, and a 1000 close at 6 s of the clients i%4 == 1.
var Plans = []stats.EventPlan{
	{At: 2 * time.Second, Action: "rolling_restart", Node: 0, Code: 1012, Window: time.Second, Settle: 500 * time.Millisecond},
	{At: 6 * time.Second, Action: "close", Node: -1, Code: 1000},
}

// Options say how the run is split.
type Options struct {
	Segments int // 3 when 0
	// SegmentStart is how long after Start segment k's recorder starts
	// (nil: all at Start). Records keep their wall-clock times.
	SegmentStart func(k int) time.Duration
	// BeginDelay is how much later than planned segment k begins each event
	// (nil: on time). The single run begins them on time.
	BeginDelay func(k int) time.Duration
	// Chaos is the segment that drove the chaos; -1: none.
	Chaos int
	// Mutate, when set, changes segment k's run before it is written.
	Mutate func(k int, run *Run)
	// Profile is the profile of the run; nil: Profile's.
	Profile *profile.Profile
}

// Run is one run's results and the profile it ran, as `wsstorm run`
// writes them.
type Run struct {
	Profile *profile.Profile
	*results.Run
}

// Profile returns the profile the run is of.
func Profile(t testing.TB) *profile.Profile {
	t.Helper()
	p, err := profile.Load("", Sets)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Write writes the whole run into root/single and segment k into
// root/segment-k, and returns the directories.
func Write(t testing.TB, root string, o Options) (single string, segments []string) {
	t.Helper()
	n := o.Segments
	if n == 0 {
		n = 3
	}
	offset := func(f func(int) time.Duration, k int) time.Duration {
		if f == nil {
			return 0
		}
		return f(k)
	}
	p := o.Profile
	if p == nil {
		p = Profile(t)
	}

	single = filepath.Join(root, "single")
	write(t, single, &Run{Profile: p, Run: &results.Run{Results: Whole(), Target: targetSide()}})

	for k := range n {
		start := Start.Add(offset(o.SegmentStart, k))
		r := newRecorder(start, offset(o.BeginDelay, k))
		var clients []int
		for i := k; i < Clients; i += n {
			clients = append(clients, i)
		}
		Play(r, clients)
		run := &Run{Profile: p, Run: &results.Run{Results: recorded(r, start),
			Segment: &results.Segment{Index: k, Count: n, StartAt: Start, Chaos: k == o.Chaos, Clients: len(clients)}}}
		if k == o.Chaos {
			run.Target = targetSide() // the segment that ran the target
		} else {
			// Only the chaos segment samples the target.
			run.Results.GaugeNames, run.Results.ImbalanceGauges = nil, nil
			for b := range run.Results.Series {
				run.Results.Series[b].Gauges = nil
			}
		}
		if o.Mutate != nil {
			o.Mutate(k, run)
		}
		dir := filepath.Join(root, fmt.Sprintf("segment-%d", k))
		write(t, dir, run)
		segments = append(segments, dir)
	}
	return single, segments
}

// Whole returns the results of one recorder of the whole fleet.
func Whole() *stats.Results {
	r := newRecorder(Start, 0)
	var all []int
	for i := range Clients {
		all = append(all, i)
	}
	Play(r, all)
	return recorded(r, Start)
}

func write(t testing.TB, dir string, run *Run) {
	t.Helper()
	if _, err := report.Write(dir, run.Profile, run.Run); err != nil {
		t.Fatalf("write %s: %v", dir, err)
	}
}

// newRecorder returns a recorder started at start, with the events begun
// delay after their planned times and the target's gauges sampled.
func newRecorder(start time.Time, delay time.Duration) *stats.Recorder {
	r := stats.New(stats.Config{
		Start: start, Horizon: Duration + 2*time.Second, Events: Plans,
		GaugeNames:      []string{"node0_conns", "node1_conns", "node2_conns"},
		ImbalanceGauges: []int{0, 1, 2},
	})
	for i, p := range Plans {
		r.BeginEvent(i, Start.Add(p.At+delay))
	}
	for b := range int(Duration / stats.DefaultBucketWidth) {
		// Known values, sampled mid-bucket on the run's clock.
		r.Sample(Start.Add(time.Duration(b)*stats.DefaultBucketWidth+50*time.Millisecond), []int64{int64(10 + b%3), 10, int64(9 + b%2)})
	}
	return r
}

func recorded(r *stats.Recorder, start time.Time) *stats.Results {
	end := Start.Add(Duration)
	r.EndSeries(end)
	res := r.Results(start, end.Sub(start))
	for i := range res.Events {
		res.Events[i].ReconnectExpected = res.Events[i].Code == 1012
	}
	return res
}

func targetSide() *results.TargetSide {
	v := 1.05
	return &results.TargetSide{Nodes: []results.NodeSide{{Index: 0, Accepted: 20, ConnectionsEnd: 8}, {Index: 1, Accepted: 12, Rejected: 1, ConnectionsEnd: 8}, {Index: 2, Accepted: 11, ConnectionsEnd: 7}}, ImbalanceEnd: &v}
}

// Play records the run of clients into r, in time order, at fixed
// wall-clock times. Client i connects (every 7th after a 503) and exchanges
// messages; if even, it is closed by the restart and comes back (after a
// refused attempt if a multiple of 4), except client 26, which gives up;
// if i%4 == 1, the 1000 close ends it; if i%5 == 2 it ends its session
// itself at 7 s; the others leave at the run's end.
func Play(r *stats.Recorder, clients []int) {
	ms := time.Millisecond
	at := func(d time.Duration) time.Time { return Start.Add(d) }
	for _, i := range clients {
		s := r.Shard(i)
		t := at(500*ms + time.Duration(i)*20*ms)
		first := true // the ramp's attempt; a retry is not one the client meant
		if i%7 == 0 {
			s.Attempt(t, t, -1, first, false)
			s.Failure(t.Add(5*ms), stats.HTTPStatus(503), -1)
			t, first = t.Add(50*ms), false
		}
		s.Attempt(t, t, -1, first, false)
		lat := 10*ms + time.Duration(i)*100*time.Microsecond
		s.Connect(t.Add(lat), lat)
		for m := range 3 {
			s.Sent()
			s.Echo(time.Duration(i+1+m) * 300 * time.Microsecond)
		}
	}
	closed := func(i int) time.Time { return at(2*time.Second + 10*ms + time.Duration(i)*ms) }
	events := map[int]int{}
	for _, i := range clients {
		if i%2 == 0 {
			events[i] = r.Attribute(closed(i), 1012, 0)
			r.Shard(i).Close(closed(i), 1012, events[i])
		}
	}
	for _, i := range clients {
		if i%2 != 0 {
			continue
		}
		s, ev := r.Shard(i), events[i]
		// The backoff ends at meant; the generator starts the dial lag
		// later, every third client after waiting for a dial slot.
		backoff := 200*ms + time.Duration(i)*37*ms
		lag := time.Duration(i) * 100 * time.Microsecond
		meant := closed(i).Add(backoff)
		try := meant.Add(lag)
		parts := stats.ReconnectParts{Backoff: backoff, Lag: lag, Handshake: 12 * ms}
		if i == 26 {
			s.Attempt(meant, try, ev, true, i%3 == 0)
			s.Failure(try.Add(3*ms), stats.Refused, ev)
			s.GaveUp()
			continue
		}
		if i%4 == 0 {
			s.Attempt(meant, try, ev, true, i%3 == 0)
			s.Failure(try.Add(3*ms), stats.Refused, ev)
			// 147 ms of backoff after the failure, and no lag.
			try = try.Add(150 * ms)
			s.Attempt(try, try, ev, false, false)
			parts.Backoff += 147 * ms
			parts.Failed = 3 * ms
		} else {
			s.Attempt(meant, try, ev, true, i%3 == 0)
		}
		back := try.Add(12 * ms)
		s.Connect(back, 12*ms)
		s.Reconnected(back, closed(i), ev, parts)
		s.Recovered(back.Sub(closed(i)) + 4*ms)
	}
	for _, i := range clients {
		if i%4 == 1 {
			t := at(6*time.Second + 10*ms + time.Duration(i)*ms)
			r.Shard(i).Close(t, 1000, r.Attribute(t, 1000, -1))
		}
	}
	for _, i := range clients {
		if i%4 != 1 && i%5 == 2 && i != 26 {
			r.Shard(i).ClientClose(at(7 * time.Second))
		}
	}
	for _, i := range clients {
		if i%4 != 1 && i%5 != 2 && i != 26 {
			r.Shard(i).Leave(at(7900 * ms))
		}
	}
}
