//go:build linux

package target

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// reusePortSupported reports whether listenReusePort works here.
const reusePortSupported = true

// errReusePortUnsupported is never needed on Linux.
func errReusePortUnsupported() error { return errors.ErrUnsupported }

// listenReusePort listens on addr with SO_REUSEPORT, so several listeners
// share the address and the kernel spreads connections over them.
func listenReusePort(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(ctx, "tcp", addr)
}
