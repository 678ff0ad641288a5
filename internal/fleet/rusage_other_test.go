//go:build !unix

package fleet

// cpuSeconds is the user and the system CPU time of this process; unknown
// here.
func cpuSeconds() (user, sys float64) { return 0, 0 }

// openFilesLimit is the limit of open files of a process; unknown here.
func openFilesLimit() uint64 { return 0 }
