package main

import (
	"errors"
	"math"

	"github.com/wsstorm/wsstorm/internal/results"
)

// The curves are sampled at log-spaced times, from curveFrom to curveTo
// seconds, curveSteps a decade: the libraries' first retries range from a
// millisecond (SignalR, phoenix, python websockets) to 18 s (ActionCable).
const (
	curveFrom  = 0.001
	curveTo    = 1000
	curveSteps = 40
)

// curve is one library's recovery: share[i] of the restarted nodes'
// clients were back by at[i] seconds after their node's restart.
type curve struct {
	name  string
	at    []float64
	share []float64
	last  float64 // when the last of them came back, s
}

// recoveryCurve pools the restart events of rs whose clients the library
// brings back: each event's histogram of the time from its start to each
// of its clients' reconnects (histograms.hlog, results.EventTag), over all
// their affected clients, so clients that never came back keep the curve
// under 100 %.
func recoveryCurve(rs *results.ResultSet) (curve, error) {
	var affected int64
	type bar struct{ to, count int64 } // µs, reconnects
	var bars []bar
	for _, e := range rs.Summary.Events {
		if !e.ReconnectExpected || (e.Action != "rolling_restart" && e.Action != "restart") {
			continue
		}
		affected += e.Affected
		h := rs.Histogram(results.EventTag(e.Index))
		if h == nil {
			continue // an event none of whose clients came back
		}
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				bars = append(bars, bar{b.To, b.Count})
			}
		}
	}
	if affected == 0 {
		return curve{}, errors.New("no restart whose clients the library brings back")
	}
	var c curve
	for _, b := range bars {
		c.last = max(c.last, float64(b.to)/1e6)
	}
	for i := 0; ; i++ {
		t := curveFrom * math.Pow(10, float64(i)/curveSteps)
		if t > curveTo*1.0001 {
			break
		}
		var back int64
		for _, b := range bars {
			if float64(b.to) <= t*1e6 {
				back += b.count
			}
		}
		c.at = append(c.at, t)
		c.share = append(c.share, float64(back)/float64(affected))
	}
	return c, nil
}
