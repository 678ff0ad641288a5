package stats

// reasonSlots bounds the reasons reasonCounts counts in its array: every
// named reason, with room for more.
const reasonSlots = 32

// The HTTP statuses reasonCounts counts in an array: 100 to 599, the ones
// RFC 9110 defines classes for.
const (
	firstStatus = 100
	statusSlots = 500
)

// reasonCounts counts failures by reason. A herd's failures are thousands
// of one reason (refused while a node is down, 503 from an accept limit),
// so each costs an array increment, not a map assignment: the named reasons
// and the HTTP statuses 100-599 are arrays (the statuses' made on the first
// one), and a map takes any other status a server may send.
type reasonCounts struct {
	named  [reasonSlots]int64
	status *[statusSlots]int64
	other  map[Reason]int64
}

// add counts n failures for reason r.
func (c *reasonCounts) add(r Reason, n int64) {
	if r >= 0 && r < reasonSlots {
		c.named[r] += n
		return
	}
	if s := int(r - httpBase - firstStatus); s >= 0 && s < statusSlots {
		if c.status == nil {
			c.status = new([statusSlots]int64)
		}
		c.status[s] += n
		return
	}
	if c.other == nil {
		c.other = make(map[Reason]int64)
	}
	c.other[r] += n
}

// merge adds o's counts.
func (c *reasonCounts) merge(o *reasonCounts) { o.each(c.add) }

// each calls f with every reason counted and its count.
func (c *reasonCounts) each(f func(r Reason, n int64)) {
	for r, n := range c.named {
		if n != 0 {
			f(Reason(r), n)
		}
	}
	if c.status != nil {
		for s, n := range c.status {
			if n != 0 {
				f(httpBase+firstStatus+Reason(s), n)
			}
		}
	}
	for r, n := range c.other {
		f(r, n)
	}
}

// addTo adds the counts to m, by the reasons' names.
func (c *reasonCounts) addTo(m map[string]int64) {
	c.each(func(r Reason, n int64) { m[r.String()] += n })
}
