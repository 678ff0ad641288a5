//go:build !linux

package main

import (
	"os"
	"syscall"
)

// childAttr leaves children in this process's group where Linux's
// parent-death signal is missing.
func childAttr() *syscall.SysProcAttr { return nil }

// maxRSS is unknown off Linux: rusage units differ.
func maxRSS(*os.ProcessState) string { return "unknown" }
