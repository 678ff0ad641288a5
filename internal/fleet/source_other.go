//go:build !linux

package fleet

import "syscall"

// bindAddressNoPort does nothing where the OS lacks IP_BIND_ADDRESS_NO_PORT:
// a bound source address then shares one ephemeral range over all
// destinations.
func bindAddressNoPort(_, _ string, _ syscall.RawConn) error { return nil }
