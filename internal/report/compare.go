package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Tolerance is how much worse a metric may get before a comparison calls it
// a regression (profile.Tolerance).
type Tolerance = profile.Tolerance

// ParseTolerance reads "+10%", "+50ms" or "+5" (profile.ParseTolerance).
func ParseTolerance(s string) (Tolerance, error) { return profile.ParseTolerance(s) }

// Change is one compared metric.
type Change struct {
	Metric     string   `json:"metric"`
	Unit       string   `json:"unit,omitempty"`
	Base       *float64 `json:"base"`
	New        *float64 `json:"new"`
	Percent    *float64 `json:"change_percent"` // null when base is 0 or a side has no value
	Tolerance  string   `json:"tolerance"`
	Regression bool     `json:"regression"`
}

// Comparison is a new run set against a base run.
type Comparison struct {
	BaseProfile results.ProfileRef `json:"base_profile"`
	NewProfile  results.ProfileRef `json:"new_profile"`
	Changes     []Change           `json:"metrics"`
	Regressions int                `json:"regressions"`
	// Warnings say what makes the comparison less telling: a run whose load
	// generator shaped its herd (see GeneratorWarning).
	Warnings []string `json:"warnings,omitempty"`
}

// CompareKeys lists the metrics a comparison's tolerances can name: one key
// covers a metric in every event (events.t99).
func CompareKeys() []string {
	seen := map[string]bool{}
	var keys []string
	probe := &results.Summary{Events: []results.EventSummary{{ReconnectExpected: true}}}
	for _, m := range compared(probe) {
		if !seen[m.key] {
			seen[m.key] = true
			keys = append(keys, m.key)
		}
	}
	return keys
}

// compared lists the headline metrics of a summary in a stable order, with
// the tolerance key each answers to (events.t99 for every event's t99).
func compared(s *results.Summary) []struct {
	name, key, unit string
	value           *float64
} {
	type m = struct {
		name, key, unit string
		value           *float64
	}
	var out []m
	for _, metric := range stats.Metrics {
		if metric == stats.DialLag {
			// The generator's, not the target's: a side it limited is
			// warned of (see CompareRuns), not judged as a regression.
			continue
		}
		l := s.LatencyMS.Of(metric)
		for _, st := range []struct {
			name string
			v    *float64
		}{{"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}} {
			key := metric.String() + "." + st.name
			out = append(out, m{key, key, "ms", st.v})
		}
	}
	for i := range s.Events {
		e := &s.Events[i]
		if !e.ReconnectExpected {
			continue
		}
		prefix := fmt.Sprintf("events[%d].", e.Index)
		out = append(out,
			m{prefix + "t50", "events.t50", "ms", msFromSeconds(e.T50S)},
			m{prefix + "t99", "events.t99", "ms", msFromSeconds(e.T99S)},
			m{prefix + "t100", "events.t100", "ms", msFromSeconds(e.T100S)},
			m{prefix + "peak_attempt_rate", "events.peak_attempt_rate", "/s", ptr(e.PeakAttemptRate)},
			m{prefix + "herd_factor", "events.herd_factor", "", ptr(e.HerdFactor)},
		)
	}
	var failures, never int64
	for _, n := range s.Counters.ConnectFailures {
		failures += n
	}
	for _, e := range s.Events {
		if e.ReconnectExpected {
			never += e.NeverReconnected
		}
	}
	return append(out,
		m{"connect_failures", "connect_failures", "", ptr(float64(failures))},
		m{"never_reconnected", "never_reconnected", "", ptr(float64(never))},
	)
}

// Compare sets new against base. tolerances are by metric key
// (reconnect.p99, events.t99, connect_failures, ...); others get def.
func Compare(base, new *results.Summary, tolerances map[string]Tolerance, def Tolerance) *Comparison {
	c := &Comparison{BaseProfile: base.Profile, NewProfile: new.Profile}
	type row struct {
		name, key, unit string
		base, new       *float64
		rank, event     int // the group (latencies, events, counts) and the event's index
		seq             int
	}
	var rows []*row
	byName := map[string]*row{}
	add := func(s *results.Summary, isBase bool) {
		for i, m := range compared(s) {
			r := byName[m.name]
			if r == nil {
				r = &row{name: m.name, key: m.key, unit: m.unit, seq: i}
				if strings.HasPrefix(m.key, "events.") {
					r.rank = 1
					fmt.Sscanf(m.name, "events[%d]", &r.event)
				} else if !strings.Contains(m.key, ".") {
					r.rank = 2
				}
				byName[m.name] = r
				rows = append(rows, r)
			}
			if isBase {
				r.base = m.value
			} else {
				r.new = m.value
			}
		}
	}
	// Every metric of either run: an event the new run lacks is a metric
	// that lost its value.
	add(new, false)
	add(base, true)
	slices.SortStableFunc(rows, func(a, b *row) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.event, b.event), cmp.Compare(a.seq, b.seq))
	})
	for _, m := range rows {
		tol, ok := tolerances[m.key]
		if !ok {
			tol = def
		}
		ch := Change{Metric: m.name, Unit: m.unit, Base: m.base, New: m.new, Tolerance: tol.Text}
		switch {
		case ch.Base != nil && ch.New != nil:
			if *ch.Base != 0 {
				ch.Percent = ptr(math.Round((*ch.New / *ch.Base - 1)*1000) / 10)
			}
			ch.Regression = !tol.Allows(*ch.Base, *ch.New)
		case ch.Base != nil && ch.New == nil:
			ch.Regression = true // had a value, lost it (e.g. t99 no longer reached)
		}
		if ch.Regression {
			c.Regressions++
		}
		c.Changes = append(c.Changes, ch)
	}
	for _, side := range []struct {
		name string
		s    *results.Summary
	}{{"base", base}, {"new", new}} {
		// Not a regression of the target, so no row: a warning that the
		// difference may be wsstorm's own.
		if f := side.s.LagFigures(); f != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("the %s run was generator-limited (%s): its herd is partly wsstorm's own; compare runs that are not", side.name, f))
		}
	}
	return c
}

func fmtValue(v *float64, unit string) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(math.Round(*v*1000)/1000, 'f', -1, 64) + unit
}

func fmtChange(ch Change) string {
	if ch.Percent == nil {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", *ch.Percent)
}

func changeVerdict(ch Change) string {
	if ch.Regression {
		return "REGRESSION"
	}
	return "ok"
}

// WriteText writes the comparison as an aligned table.
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "wsstorm compare: profile %s, base %s, new %s\n", c.NewProfile.Name, c.BaseProfile.SHA256[:min(12, len(c.BaseProfile.SHA256))], c.NewProfile.SHA256[:min(12, len(c.NewProfile.SHA256))])
	fmt.Fprintf(&b, "%-32s %14s %14s %9s %9s  %s\n", "metric", "base", "new", "change", "tolerance", "verdict")
	for _, ch := range c.Changes {
		fmt.Fprintf(&b, "%-32s %14s %14s %9s %9s  %s\n", ch.Metric, fmtValue(ch.Base, ch.Unit), fmtValue(ch.New, ch.Unit), fmtChange(ch), ch.Tolerance, changeVerdict(ch))
	}
	fmt.Fprintf(&b, "%s\n", c.summaryLine())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the comparison as a markdown table, for a pull
// request comment.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### wsstorm: %s\n\n%s\n\n", c.NewProfile.Name, c.summaryLine())
	for _, w := range c.Warnings {
		// A pull-request comment has no stderr: the warning goes in it.
		fmt.Fprintf(&b, "**Warning:** %s.\n\n", mdText(w))
	}
	b.WriteString("| metric | base | new | change | tolerance | verdict |\n|---|---:|---:|---:|---:|---|\n")
	for _, ch := range c.Changes {
		v := changeVerdict(ch)
		if ch.Regression {
			v = "**" + v + "**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", ch.Metric, fmtValue(ch.Base, ch.Unit), fmtValue(ch.New, ch.Unit), fmtChange(ch), ch.Tolerance, v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the comparison as JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

func (c *Comparison) summaryLine() string {
	if c.Regressions == 0 {
		return fmt.Sprintf("no regression in %d metrics", len(c.Changes))
	}
	if c.Regressions == 1 {
		return fmt.Sprintf("1 regression in %d metrics", len(c.Changes))
	}
	return fmt.Sprintf("%d regressions in %d metrics", c.Regressions, len(c.Changes))
}
