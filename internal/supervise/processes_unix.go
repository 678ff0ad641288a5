//go:build unix && !linux

package supervise

import (
	"os"
	"syscall"
)

// childAttr puts a child in a process group of its own, so that the
// terminal's Ctrl-C reaches only this process, which passes it on once.
// Without Linux's parent-death signal, children of a killed wsstorm end at
// the end of their run by themselves.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// maxRSS is left out: rusage's unit differs between these systems.
func maxRSS(*os.ProcessState) string { return "unknown" }
