//go:build unix

package storm

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the process has used, user and system,
// every thread together (getrusage(2), RUSAGE_SELF).
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
