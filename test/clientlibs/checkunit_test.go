package clientlibs_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Unit tests of check_test.go's checks on small hand-made runs, without a
// server or a client: each check must pass a run that agrees with the
// formula and fail one that does not, or the live test could not fail.

// fakeLib reconnects after a close within [1000, 2000] ms (unbinned),
// and in a 503 event waits a fixed 2000 ms after the close and the first
// refusal, 3000 ms after the second and third, and stops after the fourth.
func fakeLib() library {
	return library{
		preset: "fake", pools: []pool{{clients: 1, rounds: 1, events: []string{ev1012, evRefused}}},
		step: func(event string, k int) step {
			switch {
			case event != evRefused:
				return within(1000, 2000)
			case k >= refusals:
				return stop
			case k >= 2:
				return at(3000)
			}
			return at(2000)
		},
		resolution: func(event string) time.Duration {
			if event == evRefused {
				return time.Second
			}
			return 0
		},
	}
}

// spread is n delays evenly over [lo, hi].
func spread(n int, lo, hi time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = lo + (hi-lo)*time.Duration(i)/time.Duration(max(n-1, 1))
	}
	return out
}

// closeRun is a run of fakeLib's 1012 event: each side's delays, one a
// client, and a reconnection after each.
func closeRun(lib library, delays map[byte][]time.Duration) *libRun {
	r := &libRun{lib: lib, sides: []byte{'L', 'W'}}
	for side, ds := range delays {
		for c, d := range ds {
			r.samples = append(r.samples, sample{side: side, client: c, event: ev1012, delay: d})
			r.decisions = append(r.decisions, decision{side: side, client: c, event: ev1012, outcome: reconnected})
		}
	}
	return r
}

// refusedRun is a run of fakeLib's 503 event by clients clients a side:
// the close's delay and three refusals' at late past the formula's value,
// then a stop after the fourth.
func refusedRun(lib library, clients int, late map[byte]time.Duration) *libRun {
	r := &libRun{lib: lib, sides: []byte{'L', 'W'}}
	for _, side := range r.sides {
		for c := range clients {
			for k := 0; k <= refusals; k++ {
				st := lib.step(evRefused, k)
				if st.stops {
					r.decisions = append(r.decisions, decision{side: side, client: c, event: evRefused, k: k, outcome: stopped})
					continue
				}
				d := st.lo + late[side]
				r.samples = append(r.samples, sample{side: side, client: c, event: evRefused, k: k, delay: d})
				r.decisions = append(r.decisions, decision{side: side, client: c, event: evRefused, k: k, outcome: reconnected})
			}
		}
	}
	return r
}

func hasProblem(rw row, part string) bool {
	return slices.ContainsFunc(rw.problems, func(p string) bool { return strings.Contains(p, part) })
}

func TestCheckEventAgreeing(t *testing.T) {
	lib := fakeLib()
	ds := spread(minDelays, 1000*time.Millisecond, 2000*time.Millisecond)
	rw := checkEvent(closeRun(lib, map[byte][]time.Duration{'L': ds, 'W': ds}), ev1012)
	if len(rw.problems) > 0 {
		t.Errorf("agreeing sides: problems %q", rw.problems)
	}
	if !rw.ks || rw.d != 0 || rw.p < 0.99 {
		t.Errorf("the same delays on both sides: KS ran %v, D %v, p %v; want D 0, p 1", rw.ks, rw.d, rw.p)
	}
	if rw.n != [2]int{minDelays, minDelays} || rw.ksN != rw.n {
		t.Errorf("n %v, KS n %v; want %d each", rw.n, rw.ksN, minDelays)
	}
}

func TestCheckEventTooFew(t *testing.T) {
	lib := fakeLib()
	ds := spread(minDelays-1, 1000*time.Millisecond, 2000*time.Millisecond)
	rw := checkEvent(closeRun(lib, map[byte][]time.Duration{'L': ds, 'W': ds}), ev1012)
	if !hasProblem(rw, "999 delays for the KS test") {
		t.Errorf("999 delays a side: problems %q, want too few", rw.problems)
	}
}

func TestCheckEventDiffers(t *testing.T) {
	lib := fakeLib()
	rw := checkEvent(closeRun(lib, map[byte][]time.Duration{
		'L': spread(minDelays, 1000*time.Millisecond, 2000*time.Millisecond),
		'W': spread(minDelays, 1000*time.Millisecond, 1500*time.Millisecond),
	}), ev1012)
	rows := []row{rw}
	holm(rows)
	if !rows[0].holmFail || !hasProblem(rows[0], "KS: D 0.5") {
		t.Errorf("wsstorm's delays over half the library's range: D %v, p %v, problems %q; want the KS test to fail", rw.d, rw.p, rows[0].problems)
	}
}

// The 503 event's KS sample is the refusals' delays: the close's before
// them counts towards n but not towards the KS test's floor.
func TestCheckEventRefusalFloor(t *testing.T) {
	lib := fakeLib()
	// 333 clients: 333 × 5 = 1665 delays, of which 333 × 3 = 999 refusals'.
	rw := checkEvent(refusedRun(lib, 333, nil), evRefused)
	if rw.n[0] != 333*4 || rw.ksN[0] != 999 || !hasProblem(rw, "999 delays for the KS test") {
		t.Errorf("333 clients: n %v, KS n %v, problems %q; want 1332, 999 and too few", rw.n, rw.ksN, rw.problems)
	}
	rw = checkEvent(refusedRun(lib, 334, nil), evRefused)
	if len(rw.problems) > 0 || rw.ksN != [2]int{1002, 1002} {
		t.Errorf("334 clients: KS n %v, problems %q; want 1002 and none", rw.ksN, rw.problems)
	}
	if rw.outcomes[0] != "#0-3 reconnected, #4 stopped" {
		t.Errorf("decisions %q, want #0-3 reconnected, #4 stopped", rw.outcomes[0])
	}
}

// A fixed delay late by a few ms passes; by 60 ms at the median it fails,
// though 1 s bins and 1 s of slack would let it through.
func TestCheckEventFixedLate(t *testing.T) {
	lib := fakeLib()
	rw := checkEvent(refusedRun(lib, 334, map[byte]time.Duration{'L': 10 * time.Millisecond, 'W': 40 * time.Millisecond}), evRefused)
	if len(rw.problems) > 0 {
		t.Errorf("late by 10 and 40 ms at the median: problems %q", rw.problems)
	}
	rw = checkEvent(refusedRun(lib, 334, map[byte]time.Duration{'W': 60 * time.Millisecond}), evRefused)
	if !hasProblem(rw, "wsstorm: after step 1, fixed at 2s, late by 60ms at the median") || !hasProblem(rw, "wsstorm: after step 2, fixed at 3s, late by 60ms") ||
		hasProblem(rw, "after step 0") || hasProblem(rw, "the library:") {
		t.Errorf("wsstorm late by 60 ms at the median: problems %q; want wsstorm's lateness, after the refusals only", rw.problems)
	}
	if !rw.ks || rw.d != 0 {
		t.Errorf("60 ms late in 1 s bins: D %v; want 0, which is why lateness is checked", rw.d)
	}
}

// A p90 of 250 ms late passes, more fails, even with the median on time.
func TestLatenessP90(t *testing.T) {
	lib := fakeLib()
	mk := func(tail time.Duration) []sample {
		var out []sample
		for c := range 100 {
			d := 2000 * time.Millisecond
			if c >= 85 {
				d += tail
			}
			out = append(out, sample{side: 'W', client: c, event: evRefused, k: 1, delay: d})
		}
		return out
	}
	if p := lateness(lib, mk(fixedP90Late), 'W', evRefused); len(p) > 0 {
		t.Errorf("p90 late by %v: %q", fixedP90Late, p)
	}
	if p := lateness(lib, mk(fixedP90Late+time.Millisecond), 'W', evRefused); len(p) != 1 {
		t.Errorf("p90 late by %v: %q, want one problem", fixedP90Late+time.Millisecond, p)
	}
	if p := lateness(lib, mk(time.Hour), 'L', evRefused); len(p) > 0 {
		t.Errorf("wsstorm's lateness counted against the library: %q", p)
	}
}

func TestCheckEventStops(t *testing.T) {
	lib := fakeLib()
	r := refusedRun(lib, 334, nil)
	// One of wsstorm's clients reconnects after the fourth refusal.
	for i, d := range r.decisions {
		if d.side == 'W' && d.k == refusals {
			r.decisions[i].outcome = reconnected
			r.samples = append(r.samples, sample{side: 'W', client: d.client, event: evRefused, k: refusals, delay: time.Second})
			break
		}
	}
	rw := checkEvent(r, evRefused)
	if !hasProblem(rw, "reconnected after step 4, where the library stops") || !hasProblem(rw, "reconnected after step 4: the library stopped") {
		t.Errorf("a reconnect where the library stops: problems %q", rw.problems)
	}
	// Too few clients seen to stop.
	rw = checkEvent(refusedRun(lib, minStops-1, nil), evRefused)
	if !hasProblem(rw, "99 clients stopped, want 100") {
		t.Errorf("%d clients stopped: problems %q", minStops-1, rw.problems)
	}
}

func TestBounds(t *testing.T) {
	lib := fakeLib()
	for _, c := range []struct {
		event string
		k     int
		delay time.Duration
		ok    bool
	}{
		{ev1012, 0, 1000*time.Millisecond - lowSlack, true},
		{ev1012, 0, 1000*time.Millisecond - lowSlack - 1, false},
		{ev1012, 0, 2000*time.Millisecond + highSlack, true},
		{ev1012, 0, 2000*time.Millisecond + highSlack + 1, false},
		{evRefused, 2, 3000 * time.Millisecond, true},
		{evRefused, refusals, 3000 * time.Millisecond, false}, // it stops there
	} {
		got := bounds(lib, sample{side: 'W', event: c.event, k: c.k, delay: c.delay})
		if (len(got) == 0) != c.ok {
			t.Errorf("%s step %d, %v: problems %q, want ok %v", c.event, c.k, c.delay, got, c.ok)
		}
	}
}

func TestDecisionsSummary(t *testing.T) {
	lib := fakeLib()
	all := []decision{
		{side: 'L', event: evRefused, k: 0, outcome: reconnected},
		{side: 'L', event: evRefused, k: 1, outcome: reconnected},
		{side: 'L', event: evRefused, k: 2, outcome: stopped}, // the library reconnects there
		{side: 'L', event: evRefused, k: 4, outcome: stopped},
		{side: 'W', event: evRefused, k: 2, outcome: reconnected}, // the other side
		{side: 'L', event: ev1012, k: 0, outcome: stopped},        // another event
	}
	got, problems := decisions(lib, all, 'L', evRefused, refusals)
	if want := "#0-1 reconnected, #2 stopped, #4 stopped"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "stopped after step 2: the library reconnected") {
		t.Errorf("problems %q, want the stop after step 2 only", problems)
	}
}

func TestHolm(t *testing.T) {
	// Sorted: 0.001 < α/3, 0.004 < α/2, 0.03 ≥ α: the first two rejected.
	rows := []row{{ks: true, p: 0.03}, {ks: true, p: 0.001}, {ks: false, p: 0}, {ks: true, p: 0.004}}
	holm(rows)
	for i, want := range []bool{false, true, false, true} {
		if rows[i].holmFail != want {
			t.Errorf("p %v: rejected %v, want %v", rows[i].p, rows[i].holmFail, want)
		}
	}
	// 0.006 ≥ α/2 stops the procedure: 0.007 < α is not rejected either.
	rows = []row{{ks: true, p: 0.007}, {ks: true, p: 0.006}}
	holm(rows)
	if rows[0].holmFail || rows[1].holmFail {
		t.Errorf("p 0.006 and 0.007 of 2: rejected %v and %v, want neither", rows[1].holmFail, rows[0].holmFail)
	}
}

// ksSample skips a 503 event's close, bins to the resolution, and takes a
// once-per-process library's first delay of ksStep per client.
func TestKSSample(t *testing.T) {
	lib := fakeLib()
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	samples := []sample{
		{side: 'W', client: 0, event: evRefused, k: 0, delay: ms(2003)},
		{side: 'W', client: 0, event: evRefused, k: 1, delay: ms(2994)},
		{side: 'W', client: 0, event: evRefused, k: 2, delay: ms(3020)},
		{side: 'W', client: 1, event: evRefused, k: 1, delay: ms(1994)},
		{side: 'L', client: 0, event: evRefused, k: 1, delay: ms(2000)},
	}
	if got, want := ksSample(lib, samples, 'W', evRefused, time.Second), []float64{2000, 3000, 1000}; !slices.Equal(got, want) {
		t.Errorf("binned refusals %v, want %v", got, want)
	}
	lib.oncePerClient = true
	samples = append(samples, sample{side: 'W', client: 1, event: evRefused, k: 1, delay: ms(2500)})
	if got, want := ksSample(lib, samples, 'W', evRefused, 0), []float64{2994, 1994}; !slices.Equal(got, want) {
		t.Errorf("once per client %v, want %v", got, want)
	}
}
