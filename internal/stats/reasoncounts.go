package stats

// reasonSlots bounds the reasons reasonCounts counts in its array: every
// named reason, with room for more.
const reasonSlots = 32

// reasonCounts counts failures by reason: the named reasons in an array,
// which a failure costs less than a map (a herd of refusals records one per
// attempt), and HTTP statuses, which are many, in a map made on first use.
type reasonCounts struct {
	named [reasonSlots]int64
	http  map[Reason]int64
}

// add counts n failures for reason r.
func (c *reasonCounts) add(r Reason, n int64) {
	if r >= 0 && r < reasonSlots {
		c.named[r] += n
		return
	}
	if c.http == nil {
		c.http = make(map[Reason]int64)
	}
	c.http[r] += n
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
	for r, n := range c.http {
		f(r, n)
	}
}

// addTo adds the counts to m, by the reasons' names.
func (c *reasonCounts) addTo(m map[string]int64) {
	c.each(func(r Reason, n int64) { m[r.String()] += n })
}
