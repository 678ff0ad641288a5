package fleet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindAddressNoPort sets IP_BIND_ADDRESS_NO_PORT: a socket bound to a
// source address gets its port at connect(), unique per destination,
// rather than at bind(), unique per source address across all
// destinations. Without it one source address holds ~28,000 connections in
// all; with it, that many to each destination. A kernel without the option
// (before 4.2) still connects, with the smaller range, which the limit check
// assumes anyway for one destination.
func bindAddressNoPort(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
}
