//go:build unix && !linux

package supervise

import (
	"os"
	"syscall"
)

// childAttr puts a child in a process group of its own, so that the
// terminal's Ctrl-C reaches only this process, which passes it on once.
// Without Linux's parent-death signal, the segments of a killed wsstorm
// end with their run, but its serve processes serve until stopped.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// maxRSS is left out: rusage's unit differs between these systems.
func maxRSS(*os.ProcessState) string { return "unknown" }
