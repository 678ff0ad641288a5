package results

// LagExcess is one place where a run's dial lag passed its bound: the run
// as a whole (Event -1) or one chaos event, with the p99 and the bound in
// milliseconds.
type LagExcess struct {
	Event        int // the event's index; -1: the run
	DialLagP99MS float64
	BoundMS      float64
}

// LagExcesses lists where the load generator shaped the run (summary.json's
// generator_limited): the run when its own dial lag p99 passed its bound,
// then each event whose did, with their figures. A run limited in one event
// only has a run-wide p99 under the run's bound: quoting that alone would
// contradict the verdict. Nil when the generator did not shape the run.
func (s *Summary) LagExcesses() []LagExcess {
	g := s.GeneratorLimited
	if g == nil {
		return nil
	}
	var out []LagExcess
	if g.DialLagP99MS > g.BoundMS || len(g.Events) == 0 {
		out = append(out, LagExcess{Event: -1, DialLagP99MS: g.DialLagP99MS, BoundMS: g.BoundMS})
	}
	for _, i := range g.Events {
		x := LagExcess{Event: i}
		for j := range s.Events {
			if e := &s.Events[j]; e.Index == i {
				if e.DialLagMS != nil && e.DialLagMS.P99 != nil {
					x.DialLagP99MS = *e.DialLagMS.P99
				}
				x.BoundMS = e.DialLagBoundMS
			}
		}
		out = append(out, x)
	}
	return out
}
