package profile

import (
	"strings"
	"testing"
)

func TestParseSourceAddrs(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want int    // addresses; -1: an error
		err  string // in the error
	}{
		{nil, 0, ""},
		{[]string{"127.0.0.2"}, 1, ""},
		{[]string{"127.0.0.2-127.0.0.40"}, 39, ""},
		{[]string{"127.0.0.250-127.0.1.5"}, 12, ""},
		{[]string{" 127.0.0.2 - 127.0.0.3 ", "127.0.0.9"}, 3, ""},
		{[]string{"::1"}, 1, ""},
		{[]string{"fd00::1-fd00::ff"}, 255, ""},
		{[]string{"127.0.0.40-127.0.0.2"}, -1, "lower address first"},
		{[]string{"127.0.0.2-::1"}, -1, "one family"},
		{[]string{"127.0.0.2", "::1"}, -1, "different families"},
		{[]string{"127.0.0.2-127.0.0.5", "127.0.0.4"}, -1, "already named"},
		{[]string{"localhost"}, -1, "not an IP address"},
		{[]string{"0.0.0.0"}, -1, "cannot be a connection's source"},
		{[]string{"10.0.0.0-10.1.0.0"}, -1, "more than 65536"},
	} {
		got, err := ParseSourceAddrs(tc.in)
		if tc.want < 0 {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != tc.want {
			t.Errorf("%q: %d addresses (%v), want %d", tc.in, len(got), err, tc.want)
		}
	}
}

func TestSourceAddrsInProfile(t *testing.T) {
	_, err := Parse([]byte("[fleet]\nsource_addrs = [\"127.0.0.9-127.0.0.2\"]\n"), "p.toml", nil)
	if err == nil || !strings.Contains(err.Error(), "fleet.source_addrs") || !strings.Contains(err.Error(), "lower address first") {
		t.Fatalf("err = %v, want fleet.source_addrs: ... lower address first", err)
	}
	p, err := Parse([]byte("[fleet]\nsource_addrs = [\"127.0.0.2-127.0.0.5\"]\n"), "p.toml", []string{`fleet.clients=10`})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fleet.SourceAddrs) != 1 {
		t.Fatalf("source_addrs = %q", p.Fleet.SourceAddrs)
	}
}
