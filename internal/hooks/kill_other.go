//go:build !unix

package hooks

import "os/exec"

// killGroup leaves the default: the command alone is killed on cancel.
func killGroup(*exec.Cmd) {}
