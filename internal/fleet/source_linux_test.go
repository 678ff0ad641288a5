package fleet

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestBindAddressNoPort: a source-bound dial leaves the port to connect().
func TestBindAddressNoPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := sourceDialers([]netip.Addr{netip.MustParseAddr("127.0.0.2")})[0]
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
		t.Errorf("source %s, want 127.0.0.2", got)
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil || v != 1 {
		t.Errorf("IP_BIND_ADDRESS_NO_PORT = %d (%v), want 1", v, gerr)
	}
}
