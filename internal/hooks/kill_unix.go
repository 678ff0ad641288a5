//go:build unix

package hooks

import (
	"os/exec"
	"syscall"
)

// killGroup makes the command the leader of its own process group and has a
// cancelled or timed-out command killed with its whole group, so the
// children a script starts do not outlive it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
