//go:build unix

package fleet

import "syscall"

// cpuSeconds is the user and the system CPU time of this process.
func cpuSeconds() (user, sys float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return float64(ru.Utime.Nano()) / 1e9, float64(ru.Stime.Nano()) / 1e9
}

// openFilesLimit is the hard limit of open files of a process, which Go
// raises the soft one to; 0 if unknown.
func openFilesLimit() uint64 {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0
	}
	return l.Max
}
