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
)

// Tolerance is how much worse a metric may get before a comparison calls it
// a regression (profile.Tolerance).
type Tolerance = profile.Tolerance

// ParseTolerance reads "+10%", "+50ms" or "+5" (profile.ParseTolerance).
func ParseTolerance(s string) (Tolerance, error) { return profile.ParseTolerance(s) }

// Change is one compared metric. With repeated runs, Base and New are the
// medians of each side's runs, and BaseRuns and NewRuns their values.
type Change struct {
	Metric     string   `json:"metric"`
	Unit       string   `json:"unit,omitempty"`
	Base       *float64 `json:"base"`
	New        *float64 `json:"new"`
	Percent    *float64 `json:"change_percent"` // null when base is 0 or a side has no value
	Tolerance  string   `json:"tolerance"`
	Regression bool     `json:"regression"`
	// Verdict is "~" (no change this comparison can tell apart), "better",
	// "worse (within tolerance)" or "REGRESSION"; DecidedBy names the
	// noise floor, tolerance or p-value that decided it.
	Verdict   string `json:"verdict"`
	DecidedBy string `json:"decided_by"`
	// Floor is the change, in the metric's unit, that the runs compared
	// cannot tell from noise (docs/compare.md).
	Floor *float64 `json:"noise_floor,omitempty"`
	// PValue is the Mann-Whitney U test's, when both sides have at least
	// MinRepeats runs.
	PValue *float64 `json:"p_value,omitempty"`
	// BaseRuns and NewRuns are each run's value, in run order (null where
	// a run has none); only when a side has several runs.
	BaseRuns []*float64 `json:"base_runs,omitempty"`
	NewRuns  []*float64 `json:"new_runs,omitempty"`
}

// The verdicts of a change.
const (
	VerdictSame       = "~"
	VerdictBetter     = "better"
	VerdictWorse      = "worse (within tolerance)"
	VerdictRegression = "REGRESSION"
	// VerdictInconclusive: worse beyond floor and tolerance, but measured
	// while other processes kept the machine busy (Summary.BusyElsewhere),
	// and by no more than such work moves the metric (busyFloorsMS): the
	// change may be theirs, so the comparison cannot tell, and says to run
	// again.
	VerdictInconclusive = "inconclusive"
)

// Comparison is a new run, or runs, set against a base run, or runs.
type Comparison struct {
	BaseProfile results.ProfileRef `json:"base_profile"`
	NewProfile  results.ProfileRef `json:"new_profile"`
	// BaseCount and NewCount are the runs on each side.
	BaseCount int `json:"base_count"`
	NewCount  int `json:"new_count"`
	// Method says how the verdicts were reached: "noise floors" for single
	// runs (or fewer than MinRepeats a side), "Mann-Whitney U test" for
	// repeats.
	Method      string   `json:"method"`
	Changes     []Change `json:"metrics"`
	Regressions int      `json:"regressions"`
	// Inconclusive counts the changes that would be regressions but were
	// measured on a machine other work kept busy; BusyElsewhere says
	// where (the new runs' events).
	Inconclusive  int    `json:"inconclusive"`
	BusyElsewhere string `json:"busy_elsewhere,omitempty"`
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
	for _, m := range results.Headlines(probe) {
		if !seen[m.Key] {
			seen[m.Key] = true
			keys = append(keys, m.Key)
		}
	}
	return keys
}

// metricValue is a compared metric's value in one run (results.Headline):
// +Inf when the run has none, and the count a rate or a ratio is made of.
type metricValue struct {
	v, count float64
}

// compareRow is one metric over both sides' runs.
type compareRow struct {
	name, key, unit string
	base, new       []metricValue
	rank, event     int // the group (latencies, events, counts) and the event's index
	seq             int
}

// gatherRows lists every metric of any run of either side, in report
// order: an event the new runs lack is a metric that lost its value.
func gatherRows(base, new []*results.Summary) []*compareRow {
	var rows []*compareRow
	byName := map[string]*compareRow{}
	add := func(s *results.Summary, isBase bool) {
		for i, m := range results.Headlines(s) {
			r := byName[m.Name]
			if r == nil {
				r = &compareRow{name: m.Name, key: m.Key, unit: m.Unit, seq: i}
				if strings.HasPrefix(m.Key, "events.") {
					r.rank = 1
					fmt.Sscanf(m.Name, "events[%d]", &r.event)
				} else if !strings.Contains(m.Key, ".") {
					r.rank = 2
				}
				byName[m.Name] = r
				rows = append(rows, r)
			}
			v := metricValue{m.Value, m.Count}
			if isBase {
				r.base = append(r.base, v)
			} else {
				r.new = append(r.new, v)
			}
		}
	}
	for _, s := range new {
		add(s, false)
	}
	for _, s := range base {
		add(s, true)
	}
	for _, r := range rows {
		// A run without the metric (its event missing) has no value for it.
		for len(r.base) < len(base) {
			r.base = append(r.base, metricValue{v: math.Inf(1)})
		}
		for len(r.new) < len(new) {
			r.new = append(r.new, metricValue{v: math.Inf(1)})
		}
	}
	slices.SortStableFunc(rows, func(a, b *compareRow) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.event, b.event), cmp.Compare(a.seq, b.seq))
	})
	return rows
}

// Compare sets the new runs against the base runs (one or more a side, of
// one profile). tolerances are by metric key (reconnect.p99, events.t99,
// connect_failures, ...); others get def. Each metric gets a verdict
// (judgeChange): by its noise floor for single runs, by a rank test for repeats.
func Compare(base, new []*results.Summary, tolerances map[string]Tolerance, def Tolerance) *Comparison {
	c := &Comparison{BaseProfile: base[0].Profile, NewProfile: new[0].Profile, BaseCount: len(base), NewCount: len(new), Method: methodOf(len(base), len(new))}
	busy := busyElsewhere(new)
	for _, r := range gatherRows(base, new) {
		tol, ok := tolerances[r.key]
		if !ok {
			tol = def
		}
		ch := judgeChange(r, tol, busy)
		switch ch.Verdict {
		case VerdictRegression:
			c.Regressions++
		case VerdictInconclusive:
			c.Inconclusive++
			c.BusyElsewhere = busy
		}
		c.Changes = append(c.Changes, ch)
	}
	for _, side := range []struct {
		name string
		runs []*results.Summary
	}{{"base", base}, {"new", new}} {
		// Not a regression of the target, so no row: a warning that the
		// difference may be wsstorm's own.
		for i, s := range side.runs {
			if f := s.LagFigures(); f != "" {
				c.Warnings = append(c.Warnings, fmt.Sprintf("the %s run%s was generator-limited (%s): its herd is partly wsstorm's own; compare runs that are not", side.name, runNumber(i, len(side.runs)), f))
			}
		}
	}
	return c
}

// busyElsewhere says where other work kept the machine busy during at
// least half of runs, "" when it did not.
func busyElsewhere(runs []*results.Summary) string {
	var busy []string
	for i, s := range runs {
		if b := s.BusyElsewhere(); b != "" && len(runs) > 1 {
			busy = append(busy, "run"+runNumber(i, len(runs))+": "+b)
		} else if b != "" {
			busy = append(busy, b)
		}
	}
	if 2*len(busy) < len(runs) {
		return ""
	}
	return strings.Join(busy, "; ")
}

// runNumber names run i of n in a warning ("" for a single run).
func runNumber(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" %d of %d", i+1, n)
}

// methodOf says how runs of m against n are judged.
func methodOf(m, n int) string {
	if m >= MinRepeats && n >= MinRepeats {
		return fmt.Sprintf("Mann-Whitney U test, %d against %d runs, alpha %.2f", m, n, Alpha)
	}
	if m == 1 && n == 1 {
		return "single runs, judged by noise floors"
	}
	return fmt.Sprintf("%d against %d runs, medians judged by noise floors (a rank test needs %d a side)", m, n, MinRepeats)
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

// verdictText is a change's verdict with what decided it.
func verdictText(ch Change) string {
	if ch.DecidedBy == "" {
		return ch.Verdict
	}
	return ch.Verdict + " (" + ch.DecidedBy + ")"
}

// WriteText writes the comparison as an aligned table.
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "wsstorm compare: profile %s, base %s, new %s; %s\n", c.NewProfile.Name, c.BaseProfile.SHA256[:min(12, len(c.BaseProfile.SHA256))], c.NewProfile.SHA256[:min(12, len(c.NewProfile.SHA256))], c.Method)
	fmt.Fprintf(&b, "%-32s %14s %14s %9s %9s  %s\n", "metric", "base", "new", "change", "tolerance", "verdict")
	for _, ch := range c.Changes {
		fmt.Fprintf(&b, "%-32s %14s %14s %9s %9s  %s\n", ch.Metric, fmtValue(ch.Base, ch.Unit), fmtValue(ch.New, ch.Unit), fmtChange(ch), ch.Tolerance, verdictText(ch))
	}
	fmt.Fprintf(&b, "%s\n", c.summaryLine())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the comparison as a markdown table, for a pull
// request comment.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### wsstorm: %s\n\n%s (%s)\n\n", c.NewProfile.Name, c.summaryLine(), c.Method)
	for _, w := range c.Warnings {
		// A pull-request comment has no stderr: the warning goes in it.
		fmt.Fprintf(&b, "**Warning:** %s.\n\n", mdText(w))
	}
	b.WriteString("| metric | base | new | change | tolerance | verdict |\n|---|---:|---:|---:|---:|---|\n")
	for _, ch := range c.Changes {
		// "~" in code: a tilde may start a strikethrough.
		v := map[string]string{VerdictSame: "`~`", VerdictRegression: "**REGRESSION**"}[ch.Verdict]
		if v == "" {
			v = mdText(ch.Verdict)
		}
		if ch.DecidedBy != "" {
			v += " (" + mdText(ch.DecidedBy) + ")"
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
	var line string
	switch c.Regressions {
	case 0:
		line = fmt.Sprintf("no regression in %d metrics", len(c.Changes))
	case 1:
		line = fmt.Sprintf("1 regression in %d metrics", len(c.Changes))
	default:
		line = fmt.Sprintf("%d regressions in %d metrics", c.Regressions, len(c.Changes))
	}
	if c.Inconclusive > 0 {
		line += fmt.Sprintf("; %d inconclusive: %s", c.Inconclusive, c.InconclusiveText())
	}
	return line
}

// InconclusiveText says why changes were inconclusive and what to do.
func (c *Comparison) InconclusiveText() string {
	return fmt.Sprintf("the new run measured them while other processes kept the machine busy (%s); run it again on a quieter machine, or with --repeat", c.BusyElsewhere)
}
