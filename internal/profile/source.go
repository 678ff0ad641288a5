package profile

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaxSourceAddrs bounds how many addresses fleet.source_addrs may name once
// its ranges are expanded: each is a bound dialer, and 65,536 addresses hold
// far more connections than one machine can.
const MaxSourceAddrs = 1 << 16

// ParseSourceAddrs expands fleet.source_addrs: each entry is one address
// ("127.0.0.2", "::1") or an inclusive range of one family
// ("127.0.0.2-127.0.0.40"). The result is in the order written, without
// repeats.
func ParseSourceAddrs(entries []string) ([]netip.Addr, error) {
	var out []netip.Addr
	seen := map[netip.Addr]string{}
	for _, e := range entries {
		first, last, err := parseSourceEntry(e)
		if err != nil {
			return nil, err
		}
		for a := first; ; a = a.Next() {
			if prev, ok := seen[a]; ok {
				return nil, fmt.Errorf("%q: %s is already named by %q: name each address once", e, a, prev)
			}
			seen[a] = e
			out = append(out, a)
			if len(out) > MaxSourceAddrs {
				return nil, fmt.Errorf("%q: more than %d addresses in all: use fewer", e, MaxSourceAddrs)
			}
			if a == last {
				break
			}
		}
	}
	if len(out) > 0 {
		v4 := out[0].Is4()
		for _, a := range out[1:] {
			if a.Is4() != v4 {
				return nil, fmt.Errorf("%s and %s are of different families: use IPv4 or IPv6 addresses, not both", out[0], a)
			}
		}
	}
	return out, nil
}

// parseSourceEntry parses one address or range.
func parseSourceEntry(e string) (first, last netip.Addr, err error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(e), "-")
	if first, err = parseSourceAddr(e, lo); err != nil {
		return first, last, err
	}
	if !isRange {
		return first, first, nil
	}
	if last, err = parseSourceAddr(e, hi); err != nil {
		return first, last, err
	}
	switch {
	case first.Is4() != last.Is4():
		return first, last, fmt.Errorf("%q: a range's ends must be of one family", e)
	case last.Less(first):
		return first, last, fmt.Errorf("%q: the range ends before it starts: write the lower address first", e)
	}
	return first, last, nil
}

func parseSourceAddr(entry, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return a, fmt.Errorf("%q: %q is not an IP address: write an address (127.0.0.2) or a range (127.0.0.2-127.0.0.40)", entry, s)
	}
	if a.Zone() != "" {
		return a, fmt.Errorf("%q: zoned addresses (%s) are not supported", entry, s)
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return a, fmt.Errorf("%q: %s cannot be a connection's source address", entry, a)
	}
	return a.Unmap(), nil
}
