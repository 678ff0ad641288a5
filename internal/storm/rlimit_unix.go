//go:build unix

package storm

import "syscall"

// openFileLimit returns the soft RLIMIT_NOFILE, which the Go runtime raises to
// the hard limit at start.
func openFileLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return uint64(lim.Cur), true
}
