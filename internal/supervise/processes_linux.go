package supervise

import (
	"fmt"
	"os"
	"syscall"
)

// childAttr puts a child in a process group of its own, so that the
// terminal's Ctrl-C reaches only this process, which passes it on once, and
// has the child stopped if this process dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// maxRSS is a finished child's peak resident memory.
func maxRSS(st *os.ProcessState) string {
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		return fmt.Sprintf("%.0f MiB", float64(ru.Maxrss)/1024) // KiB on Linux
	}
	return "unknown"
}
