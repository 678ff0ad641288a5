package fleet

import (
	"net"
	"net/netip"
)

// sourceDialers returns one dialer per source address, each binding its
// connections to the address with the port left to connect(), so that
// every (source, destination) pair has the whole ephemeral range; nil when
// the OS picks the source.
func sourceDialers(addrs []netip.Addr) []*net.Dialer {
	out := make([]*net.Dialer, len(addrs))
	for i, a := range addrs {
		out[i] = &net.Dialer{
			LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, 0)),
			Control:   bindAddressNoPort,
		}
	}
	return out
}

// sourceDialer is the dialer of client id: nil (the default) without
// source addresses.
func (f *Fleet) sourceDialer(id int) *net.Dialer {
	if len(f.sources) == 0 {
		return nil
	}
	return f.sources[id%len(f.sources)]
}
