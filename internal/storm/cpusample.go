package storm

import (
	"context"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// sampleCPU records the process's and the machine's CPU time into rec
// every stats.SampleEvery from now until ctx ends, so that each bucket says
// how busy the generator's cores were: a saturated CPU shapes what the run
// measures as surely as a dial queue does, whether this process saturates
// it or something else on the machine (the target's processes, another
// job).
func sampleCPU(ctx context.Context, rec *stats.Recorder) {
	sample := func() bool {
		var s stats.CPUSample
		var ok bool
		if s.Process, ok = processCPU(); !ok {
			return false
		}
		s.MachineBusy, s.MachineAll, s.MachineKnown = machineCPU()
		rec.SampleCPU(time.Now(), s)
		return true
	}
	if sample() {
		everySample(ctx, func() { sample() })
	}
}
