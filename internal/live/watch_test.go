package live

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// TestOtherPort: the address suggested when one is taken is the next port,
// or any free one when there is no next.
func TestOtherPort(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:9090":  "127.0.0.1:9091",
		"127.0.0.1:65535": "127.0.0.1:0",
		"127.0.0.1:0":     "127.0.0.1:0",
		"nonsense":        "127.0.0.1:0",
	} {
		if got := otherPort(addr); got != want {
			t.Errorf("otherPort(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestWatchTakenAddress: a metrics address in use stops the watch before
// anything runs, and the error names the next port.
func TestWatchTakenAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out bytes.Buffer
	_, err = StartWatch(WatchOptions{Out: &out, MetricsAddr: l.Addr().String(), Clients: 1})
	if err == nil || !strings.Contains(err.Error(), "choose another address with --metrics-addr, e.g. "+otherPort(l.Addr().String())) {
		t.Errorf("taken address: %v", err)
	}
}
