//go:build linux && !(386 || amd64 || arm)

package target

import "syscall"

// soReusePort is the SO_REUSEPORT socket option.
const soReusePort = syscall.SO_REUSEPORT
