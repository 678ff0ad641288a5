//go:build !unix

package storm

import "time"

// processCPU is not measured here: the run's CPU column stays empty and no
// event is judged CPU-saturated.
func processCPU() (time.Duration, bool) { return 0, false }
