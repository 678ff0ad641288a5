//go:build !unix

package supervise

import (
	"os"
	"syscall"
)

// childAttr leaves children as they are where process groups are missing.
func childAttr() *syscall.SysProcAttr { return nil }

// maxRSS is unknown here.
func maxRSS(*os.ProcessState) string { return "unknown" }
