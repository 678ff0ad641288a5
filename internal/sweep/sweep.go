// Package sweep runs `wsstorm sweep` and computes what it finds: the grid
// of settings a profile is run with, the driver that runs (or simulates)
// each setting in turn, each setting's herd metrics aggregated over its
// repeats and events, the Pareto front of recovery time against peak
// attempt rate, the recommended setting, and sweep.json, the table and the
// HTML page that present them. Each run's results directory is written by
// a function the caller gives (report.Write), as this package sits below
// the renderers.
package sweep

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
)

// Schema identifies the layout of sweep.json. A change that breaks readers
// bumps it.
const Schema = "wsstorm.sweep/v1"

// Files of a sweep's result directory, beside one directory per setting.
const (
	JSONFile     = "sweep.json"
	MarkdownFile = "sweep.md"
	HTMLFile     = "sweep.html"
)

// Axis is one --vary: a profile key and the values it takes, in order.
type Axis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// ParseVary reads KEY=V1,V2,... Commas inside brackets, braces or quotes
// belong to the value (chaos.0.nodes=[0,1],[1]).
func ParseVary(s string) (Axis, error) {
	key, vals, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return Axis{}, fmt.Errorf("--vary %q: want KEY=V1,V2,... e.g. fleet.reconnect.max=1s,5s,10s", s)
	}
	var values []string
	depth, quote, start := 0, rune(0), 0
	for i, r := range vals {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		case r == ',' && depth == 0:
			values = append(values, strings.TrimSpace(vals[start:i]))
			start = i + 1
		}
	}
	values = append(values, strings.TrimSpace(vals[start:]))
	for _, v := range values {
		if v == "" {
			return Axis{}, fmt.Errorf("--vary %s: an empty value in %q", key, vals)
		}
	}
	return Axis{Key: key, Values: values}, nil
}

// Setting is one combination of the axes' values.
type Setting struct {
	// Assign are the KEY=VALUE overrides, one per axis, in the axes' order,
	// given to the profile as --set would give them.
	Assign []string `json:"assign"`
	// Slug names the setting's directory.
	Slug string `json:"slug"`
}

// Label is the setting as a reader sees it: "k=v, k2=v2".
func (s Setting) Label() string { return strings.Join(s.Assign, ", ") }

// Expand returns every combination of the axes' values, the first axis
// varying slowest. Keys must be distinct.
func Expand(axes []Axis) ([]Setting, error) {
	if len(axes) == 0 {
		return nil, errors.New("nothing to vary: give at least one --vary KEY=V1,V2,...")
	}
	seen := map[string]bool{}
	for _, a := range axes {
		if seen[a.Key] {
			return nil, fmt.Errorf("--vary %s is given twice: list all its values in one --vary", a.Key)
		}
		seen[a.Key] = true
	}
	out := []Setting{{}}
	for _, a := range axes {
		var next []Setting
		for _, s := range out {
			for _, v := range a.Values {
				next = append(next, Setting{Assign: append(slices.Clone(s.Assign), a.Key+"="+v)})
			}
		}
		out = next
	}
	for i := range out {
		out[i].Slug = SettingSlug(i, len(out), out[i].Assign)
	}
	return out, nil
}

// SettingSlug is the directory name of the i-th of n settings: its number,
// which keeps names unique whatever the values (and case-insensitive file
// systems), then its assignments. Give it assignments with secrets
// redacted: the name is written in files and logs.
func SettingSlug(i, n int, assign []string) string {
	return fmt.Sprintf("%0*d-%s", len(fmt.Sprint(n)), i+1, Slug(assign))
}

// Slug turns assignments into a directory name: the last part of each key
// and its value, letters, digits, '.', '-' and '_' only.
func Slug(assign []string) string {
	parts := make([]string, len(assign))
	for i, a := range assign {
		k, v, _ := strings.Cut(a, "=")
		if j := strings.LastIndex(k, "."); j >= 0 {
			k = k[j+1:]
		}
		parts[i] = clean(k) + "-" + clean(v)
	}
	s := strings.Join(parts, "_")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			if !strings.HasSuffix(b.String(), "_") {
				b.WriteRune('_')
			}
		}
	}
	out := strings.Trim(b.String(), "_.")
	if out == "" {
		return "x"
	}
	return out
}

// RunMetrics are one run's herd metrics over the events whose clients are
// expected back: the slowest event's t50/t99/t100 and the highest peak
// attempt rate and herd factor; failed attempts and clients never
// reconnected summed.
type RunMetrics struct {
	Dir         string `json:"dir"` // relative to the sweep's directory
	Interrupted bool   `json:"interrupted"`
	// Excluded says why the run is left out of its setting's statistics
	// (interrupted, a restart hook failed, no event closed a client that
	// comes back); empty when it counts.
	Excluded string `json:"excluded,omitempty"`
	Passed   bool   `json:"passed"` // the run's own thresholds
	Events   int    `json:"events"` // events whose clients are expected back
	// Nil when an event's share never reconnected (or there was no event).
	T50S             *float64 `json:"t50_s"`
	T99S             *float64 `json:"t99_s"`
	T100S            *float64 `json:"t100_s"`
	PeakAttemptRate  float64  `json:"peak_attempt_rate"`
	HerdFactor       float64  `json:"herd_factor"`
	FailedAttempts   int64    `json:"failed_attempts"`
	NeverReconnected int64    `json:"never_reconnected"`
	// GeneratorLimited says the load generator shaped the run's herd (its
	// summary's generator_limited), and GeneratorFigures where and by how
	// much (results.Summary.LagFigures). The run still counts: its herd is
	// measured, but partly wsstorm's own.
	GeneratorLimited bool   `json:"generator_limited"`
	GeneratorFigures string `json:"generator_figures,omitempty"`
}

// FromSummary reduces a run's summary to its RunMetrics.
func FromSummary(dir string, s *results.Summary) RunMetrics {
	m := RunMetrics{Dir: dir, Interrupted: s.Interrupted, Passed: s.Passed,
		GeneratorLimited: s.GeneratorLimited != nil, GeneratorFigures: s.LagFigures()}
	worst := func(dst **float64, v *float64, first bool) {
		switch {
		case first:
			*dst = v
		case *dst == nil || v == nil:
			*dst = nil
		case *v > **dst:
			*dst = v
		}
	}
	for _, e := range s.Events {
		if e.Failed {
			m.Excluded = fmt.Sprintf("event %d failed (its restart hook)", e.Index)
		}
		if !e.ReconnectExpected || e.Affected == 0 {
			continue // no herd to measure
		}
		first := m.Events == 0
		m.Events++
		worst(&m.T50S, e.T50S, first)
		worst(&m.T99S, e.T99S, first)
		worst(&m.T100S, e.T100S, first)
		m.PeakAttemptRate = max(m.PeakAttemptRate, e.PeakAttemptRate)
		m.HerdFactor = max(m.HerdFactor, e.HerdFactor)
		for _, n := range e.FailedAttempts {
			m.FailedAttempts += n
		}
		m.NeverReconnected += e.NeverReconnected
	}
	switch {
	case s.Interrupted:
		m.Excluded = "interrupted"
	case m.Excluded == "" && m.Events == 0:
		m.Excluded = "no event closed a client that the policy brings back: no herd"
	}
	return m
}

// Stat is a metric over a setting's repeats: the median and the spread. Runs
// without the value (nil) are left out; N counts the ones with it.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// statOf returns the Stat of values, nil when there are none.
func statOf(values []float64) *Stat {
	if len(values) == 0 {
		return nil
	}
	return &Stat{Median: results.Median(values), Min: slices.Min(values), Max: slices.Max(values), N: len(values)}
}

// Result is one setting's runs and their aggregate.
type Result struct {
	Setting
	Label string       `json:"label"`
	Runs  []RunMetrics `json:"runs"`
	// Limit is the peak attempt rate this setting's herd must stay under to
	// be recommended (0: none).
	Limit float64 `json:"limit"`

	T50S             *Stat `json:"t50_s"`
	T99S             *Stat `json:"t99_s"` // nil: no run had every client back
	T100S            *Stat `json:"t100_s"`
	PeakAttemptRate  *Stat `json:"peak_attempt_rate"`
	HerdFactor       *Stat `json:"herd_factor"`
	FailedAttempts   *Stat `json:"failed_attempts"`
	NeverReconnected *Stat `json:"never_reconnected"`
	// GeneratorLimitedRuns counts the setting's runs, counted or not, whose
	// herd the load generator shaped: a setting's numbers are then partly
	// wsstorm's own, and its row says so.
	GeneratorLimitedRuns int `json:"generator_limited_runs"`

	// Pareto: no other setting recovers at least as fast (t99) with a peak
	// attempt rate at least as low, and better in one of them.
	Pareto bool `json:"pareto"`
}

// Aggregate computes r's statistics from its runs that count (not
// Excluded). A recovery time (t50, t99, t100) is given only when every
// counted run reached it: a run whose clients did not come back must not
// read as a fast one.
func (r *Result) Aggregate() {
	var t50, t99, t100, peak, herd, failed, never []float64
	counted := 0
	r.GeneratorLimitedRuns = 0
	for _, m := range r.Runs {
		if m.GeneratorLimited {
			r.GeneratorLimitedRuns++
		}
		if m.Excluded != "" {
			continue
		}
		counted++
		if m.T50S != nil {
			t50 = append(t50, *m.T50S)
		}
		if m.T99S != nil {
			t99 = append(t99, *m.T99S)
		}
		if m.T100S != nil {
			t100 = append(t100, *m.T100S)
		}
		peak = append(peak, m.PeakAttemptRate)
		herd = append(herd, m.HerdFactor)
		failed = append(failed, float64(m.FailedAttempts))
		never = append(never, float64(m.NeverReconnected))
	}
	r.Label = r.Setting.Label()
	whole := func(v []float64) *Stat {
		if len(v) < counted {
			return nil
		}
		return statOf(v)
	}
	r.T50S, r.T99S, r.T100S = whole(t50), whole(t99), whole(t100)
	r.PeakAttemptRate, r.HerdFactor = statOf(peak), statOf(herd)
	r.FailedAttempts, r.NeverReconnected = statOf(failed), statOf(never)
}

// plotted says whether r has a point on the chart: a recovery time and a
// peak attempt rate.
func (r *Result) plotted() bool { return r.T99S != nil && r.PeakAttemptRate != nil }

// complete says every client of r's counted runs came back: only such a
// setting competes for the Pareto front and the recommendation.
func (r *Result) complete() bool {
	return r.plotted() && r.NeverReconnected != nil && r.NeverReconnected.Max == 0
}

// MarkPareto sets Pareto on the settings no other one dominates in (t99,
// peak attempt rate), both medians, lower better.
func MarkPareto(rs []Result) {
	for i := range rs {
		rs[i].Pareto = false
		if !rs[i].complete() {
			continue
		}
		a := &rs[i]
		dominated := false
		for j := range rs {
			b := &rs[j]
			if i == j || !b.complete() {
				continue
			}
			bt, bp, at, ap := b.T99S.Median, b.PeakAttemptRate.Median, a.T99S.Median, a.PeakAttemptRate.Median
			if bt <= at && bp <= ap && (bt < at || bp < ap) {
				dominated = true
				break
			}
		}
		a.Pareto = !dominated
	}
}

// Recommendation is the sweep's answer.
type Recommendation struct {
	// Slug and Label name the recommended setting; empty when none is.
	Slug  string `json:"slug,omitempty"`
	Label string `json:"label,omitempty"`
	// Text says which setting and why, or why none.
	Text string `json:"text"`
}

// Recommend picks, among the settings whose median peak attempt rate is at
// most their limit (any, when the limit is 0) and whose runs left no client
// unreconnected, the one with the lowest median t99 (ties: the lower peak,
// then the earlier setting). Without one, Slug is empty and Text says why.
func Recommend(rs []Result) Recommendation {
	var best *Result
	underLimit, neverBack := 0, 0
	var lowest *Result // the lowest peak, for the explanation
	for i := range rs {
		r := &rs[i]
		if r.PeakAttemptRate == nil {
			continue
		}
		if lowest == nil || r.PeakAttemptRate.Median < lowest.PeakAttemptRate.Median {
			lowest = r
		}
		if r.Limit > 0 && r.PeakAttemptRate.Median > r.Limit {
			continue
		}
		underLimit++
		if !r.complete() {
			if r.NeverReconnected != nil && r.NeverReconnected.Max > 0 {
				neverBack++
			}
			continue
		}
		if best == nil || cmp.Or(cmp.Compare(r.T99S.Median, best.T99S.Median), cmp.Compare(r.PeakAttemptRate.Median, best.PeakAttemptRate.Median)) < 0 {
			best = r
		}
	}
	if best != nil {
		why := "the fastest recovery of all settings (no attempt-rate limit)"
		if best.Limit > 0 {
			why = fmt.Sprintf("the fastest recovery among the settings whose herd stays under %s attempts/s", rate(best.Limit))
		}
		return Recommendation{Slug: best.Slug, Label: best.Label, Text: fmt.Sprintf(
			"%s: t99 %s, peak %s attempts/s, every client back: %s", best.Label, secs(best.T99S.Median), rate(best.PeakAttemptRate.Median), why)}
	}
	switch {
	case lowest == nil:
		return Recommendation{Text: "no setting finished a run: nothing to recommend"}
	case underLimit == 0:
		return Recommendation{Text: fmt.Sprintf("no setting keeps the herd under %s attempts/s: the lowest peak is %s attempts/s (%s); widen the reconnect window, or add capacity",
			rate(lowest.Limit), rate(lowest.PeakAttemptRate.Median), lowest.Label)}
	case neverBack == underLimit:
		return Recommendation{Text: "no setting recommended: every setting under the limit left clients that never reconnected"}
	}
	return Recommendation{Text: "no setting recommended: the settings under the limit either left clients that never reconnected or have no recovery time in every run (see each run's summary)"}
}

// Sweep is the content of sweep.json.
type Sweep struct {
	Schema  string `json:"schema"`
	Profile struct {
		Name string   `json:"name"`
		Path string   `json:"path"`
		Sets []string `json:"sets"` // the --set overrides common to every setting
		// Scale is the factor --scale or --quick multiplied every run's
		// timeline by, after the settings' values (which are in the
		// file's timeline); absent when the timeline is as written.
		Scale string `json:"scale,omitempty"` // exact, as summary.json's profile.scale
	} `json:"profile"`
	Axes   []Axis `json:"axes"`
	Repeat int    `json:"repeat"`
	// Limit is the attempt-rate limit when every setting has the same one;
	// LimitSource says where it came from ("[sweep] max_attempt_rate",
	// "target capacity (N nodes × R/s)", or "none").
	Limit       float64 `json:"limit"`
	LimitSource string  `json:"limit_source"`
	Interrupted bool    `json:"interrupted"`
	// Simulated says every run was simulated (wsstorm sweep --simulate):
	// Model is the model, as the runs' summary.json records it.
	Simulated      bool            `json:"simulated,omitempty"`
	Model          json.RawMessage `json:"model,omitempty"`
	Settings       []Result        `json:"settings"`
	Recommendation Recommendation  `json:"recommendation"`
}

// Title names the sweep in its pages: its profile, whether it was
// simulated, and the scale of its timeline.
func (s *Sweep) Title() string {
	t := "wsstorm sweep: " + s.Profile.Name
	if s.Simulated {
		t += " (simulated)"
	}
	if s.Profile.Scale != "" {
		// The settings' times are the file's; the runs' were scaled.
		t += " (timeline scaled by " + s.Profile.Scale + ")"
	}
	return t
}

// Finish aggregates every setting, marks the Pareto front and recommends.
func (s *Sweep) Finish() {
	s.Schema = Schema
	for i := range s.Settings {
		s.Settings[i].Aggregate()
	}
	MarkPareto(s.Settings)
	s.Recommendation = Recommend(s.Settings)
}

// WriteJSON writes s as sweep.json.
func (s *Sweep) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadJSON reads sweep.json.
func ReadJSON(r io.Reader) (*Sweep, error) {
	var s Sweep
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("sweep.json: %w", err)
	}
	if s.Schema != Schema {
		return nil, fmt.Errorf("sweep.json: schema %q, want %q", s.Schema, Schema)
	}
	return &s, nil
}

func secs(v float64) string { return fmt.Sprintf("%.3gs", v) }
func rate(v float64) string { return fmt.Sprintf("%.0f", v) }

// cell formats a Stat with its spread when the runs differ.
func cell(s *Stat, f func(float64) string) string {
	if s == nil {
		return "–"
	}
	if s.N < 2 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

func herd(v float64) string  { return fmt.Sprintf("%.2f", v) }
func count(v float64) string { return fmt.Sprintf("%.0f", v) }

// Rows returns the table's header and rows: per setting the medians over
// repeats with the spread (min–max) in parentheses, and its marks:
// "recommended", "pareto", "over limit", "generator-limited (1 of 3 runs)".
func (s *Sweep) Rows() (header []string, rows [][]string) {
	header = []string{"setting", "t50", "t99", "t100", "peak attempts/s", "herd factor", "failed attempts", "never reconnected", "runs", "mark"}
	for _, r := range s.Settings {
		var marks []string
		if r.Slug == s.Recommendation.Slug && r.Slug != "" {
			marks = append(marks, "recommended")
		}
		if r.Pareto {
			marks = append(marks, "pareto")
		}
		if r.Limit > 0 && r.PeakAttemptRate != nil && r.PeakAttemptRate.Median > r.Limit {
			marks = append(marks, "over limit")
		}
		if n := r.GeneratorLimitedRuns; n > 0 {
			marks = append(marks, fmt.Sprintf("generator-limited (%d of %d runs)", n, len(r.Runs)))
		}
		rows = append(rows, []string{r.Label, cell(r.T50S, secs), cell(r.T99S, secs), cell(r.T100S, secs),
			cell(r.PeakAttemptRate, rate), cell(r.HerdFactor, herd), cell(r.FailedAttempts, count), cell(r.NeverReconnected, count),
			fmt.Sprint(len(r.Runs)), strings.Join(marks, ", ")})
	}
	return header, rows
}

// limitText describes the limit.
func (s *Sweep) limitText() string {
	if s.Limit <= 0 {
		if s.LimitSource != "" && s.LimitSource != "none" {
			return "attempt-rate limit: " + s.LimitSource
		}
		return "attempt-rate limit: none"
	}
	return fmt.Sprintf("attempt-rate limit: %s attempts/s (%s)", rate(s.Limit), s.LimitSource)
}

// GeneratorFix is what to do about a sweep whose load generator shaped
// runs: a sweep runs each setting in one process, and a simulated one is
// late only for its modeled dial slots.
func GeneratorFix(simulated bool) string {
	if simulated {
		return "raise fleet.max_dialing (the model's dials in flight at once)"
	}
	return "raise fleet.max_dialing (dials in flight at once), give each run fewer clients (--set fleet.clients=N), or compare the settings' herds with --simulate"
}

// generatorText says how many runs the load generator shaped, and what to
// do about it; "" when none.
func (s *Sweep) generatorText() string {
	limited, runs := 0, 0
	for _, r := range s.Settings {
		limited += r.GeneratorLimitedRuns
		runs += len(r.Runs)
	}
	if limited == 0 {
		return ""
	}
	return fmt.Sprintf("generator-limited: the load generator shaped %d of %d runs (marked), so their herds are partly wsstorm's own: %s",
		limited, runs, GeneratorFix(s.Simulated))
}

// WriteText writes the table for a terminal, then the limit and the
// recommendation.
func (s *Sweep) WriteText(w io.Writer) error {
	header, rows := s.Rows()
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c + strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		trimmed := strings.TrimRight(b.String(), " ")
		b.Reset()
		b.WriteString(trimmed + "\n")
	}
	fmt.Fprintf(&b, "%s\n", s.limitText())
	if g := s.generatorText(); g != "" {
		fmt.Fprintf(&b, "%s\n", g)
	}
	if s.Simulated {
		b.WriteString("simulated: no sockets; target and network modeled (wsstorm simulate)\n")
	}
	if s.Interrupted {
		b.WriteString("interrupted: only the finished runs are counted\n")
	}
	fmt.Fprintf(&b, "recommendation: %s\n", s.Recommendation.Text)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the table as Markdown.
func (s *Sweep) WriteMarkdown(w io.Writer) error {
	header, rows := s.Rows()
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep of %s\n\n", strings.TrimPrefix(s.Title(), "wsstorm sweep: "))
	line := func(cells []string) {
		for i := range cells {
			cells[i] = strings.ReplaceAll(cells[i], "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	line(slices.Clone(header))
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintf(&b, "\nMedians over %d repeat(s), spread (min–max) in parentheses; per run, the slowest event whose clients are expected back.\n\n", s.Repeat)
	fmt.Fprintf(&b, "%s\n\n", s.limitText())
	if g := s.generatorText(); g != "" {
		fmt.Fprintf(&b, "**%s**\n\n", g)
	}
	if s.Simulated {
		b.WriteString("Simulated: no sockets; target and network modeled (`wsstorm simulate`).\n\n")
	}
	if s.Interrupted {
		b.WriteString("Interrupted: only the finished runs are counted.\n\n")
	}
	fmt.Fprintf(&b, "**Recommendation:** %s\n", s.Recommendation.Text)
	_, err := io.WriteString(w, b.String())
	return err
}

// finite guards JSON against NaN and infinities (a rate can never be one, but
// a hand-edited summary might).
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
