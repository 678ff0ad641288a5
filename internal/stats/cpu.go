package stats

import (
	"sync"
	"time"
)

// CPUSaturated is the share of the cores, in percent, at which the CPU
// counts as saturated over an event's recovery: the clients' timers and
// reads then wait for a core, so closes are seen late, attempts start late
// and handshakes take longer on the clients' side, and none of it is the
// target's doing. The share is the machine's where known (the target's
// processes and other jobs compete for the same cores), and the process's
// of its own cores (GOMAXPROCS, which follows a container's CPU limit).
const CPUSaturated = 90

// CPUSample is how much CPU time had been used by a moment of the run: by
// the process, every thread, and by the whole machine in clock ticks (busy
// and in all; MachineKnown false where it cannot be read).
type CPUSample struct {
	Process                 time.Duration
	MachineBusy, MachineAll uint64
	MachineKnown            bool
}

// minCPUInterval is the shortest interval a CPU sample measures: half the
// sampler's period.
const minCPUInterval = SampleEvery / 2

// cpuAt is a CPUSample and when it was taken, from the run's start.
type cpuAt struct {
	at time.Duration
	CPUSample
}

// cpuSeries holds, for each series bucket, the last CPU sample whose
// interval (from the sample before it) is centred in the bucket.
type cpuSeries struct {
	mu      sync.Mutex
	cores   int
	base    cpuAt   // the first sample, before any bucket's
	last    cpuAt   // the latest sample
	samples []cpuAt // by bucket; at 0: no sample in the bucket
	started bool
}

// SampleCPU records the CPU time used by t. One sampler calls it, in time
// order, from the run's start on; each bucket's share of the cores busy is
// then known (see Bucket.CPU and Bucket.MachineCPU).
func (r *Recorder) SampleCPU(t time.Time, s CPUSample) {
	c := &r.cpu
	at := t.Sub(r.start)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		c.base, c.last, c.started = cpuAt{at, s}, cpuAt{at, s}, true
		return
	}
	// A sampler that ran late catches up with a tick right after: so short
	// an interval is below the CPU clocks' granularity (a running thread's
	// time is brought up to date at the scheduler's ticks, every few ms),
	// and read alone it gave shares of 20,000%. Folded into the next
	// sample's interval, it counts at its true weight.
	if at-c.last.at < minCPUInterval {
		return
	}
	// A sample says how busy the CPU was since the one before: it belongs
	// to the bucket its interval's middle falls in, not to the next one,
	// where most of a 100 ms interval taken late in a bucket would put it.
	b := r.bucket(t.Add(-(at - c.last.at) / 2))
	c.last = cpuAt{at, s}
	if b < 0 {
		return
	}
	c.samples = grow(c.samples, b)
	c.samples[b] = c.last
}

// cpuRows returns, for each of the first n buckets, the percent of its
// cores the process was busy (CPU time used since the previous sample, over
// the time since it times the cores) and the percent of the machine's busy
// ticks; -1 for a bucket without a sample, or where it is unknown.
func (r *Recorder) cpuRows(n int) (process, machine []int64) {
	c := &r.cpu
	c.mu.Lock()
	defer c.mu.Unlock()
	process, machine = make([]int64, n), make([]int64, n)
	prev := c.base
	for b := range n {
		process[b], machine[b] = -1, -1
		if b >= len(c.samples) || c.samples[b].at == 0 {
			continue
		}
		s := c.samples[b]
		if dt := s.at - prev.at; dt > 0 && c.cores > 0 {
			process[b] = percent(float64(s.Process-prev.Process), float64(dt)*float64(c.cores))
		}
		if s.MachineKnown && prev.MachineKnown && s.MachineAll > prev.MachineAll {
			machine[b] = percent(float64(s.MachineBusy-prev.MachineBusy), float64(s.MachineAll-prev.MachineAll))
		}
		prev = s
	}
	return process, machine
}

func percent(part, whole float64) int64 { return int64(100*part/whole + 0.5) }

// meanOver is the mean over buckets [from, to] of the values of one column
// of the series that are known (≥ 0); nil when none is.
func (r *Results) meanOver(from, to int, column func(*Bucket) int64) *float64 {
	var sum, n int64
	for b := max(from, 0); b <= to && b < len(r.Series); b++ {
		if v := column(&r.Series[b]); v >= 0 {
			sum += v
			n++
		}
	}
	if n == 0 {
		return nil
	}
	v := float64(sum) / float64(n)
	return &v
}

// judgeCPU sets ev's CPU figures over buckets [from, to], its recovery.
func (r *Results) judgeCPU(ev *EventReport, from, to int) {
	ev.CPUBusy = r.meanOver(from, to, func(b *Bucket) int64 { return b.CPU })
	ev.MachineBusy = r.meanOver(from, to, func(b *Bucket) int64 { return b.MachineCPU })
	over := func(v *float64) bool { return v != nil && *v >= CPUSaturated }
	ev.CPUSaturated = over(ev.CPUBusy) || over(ev.MachineBusy)
}
