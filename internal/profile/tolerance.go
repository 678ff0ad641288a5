package profile

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultToleranceKey names, in a profile's [compare] table, the tolerance
// of every metric the table does not name.
const DefaultToleranceKey = "default"

// CompareMetrics lists the metrics a comparison's tolerances can name, in
// report order: one key covers a metric in every event (events.t99).
func CompareMetrics() []string {
	var keys []string
	for _, m := range []string{"connect", "reconnect", "recovery", "message_rtt"} {
		for _, p := range []string{"p50", "p90", "p99"} {
			keys = append(keys, m+"."+p)
		}
	}
	return append(keys,
		"events.t50", "events.t99", "events.t100", "events.peak_attempt_rate", "events.herd_factor",
		"connect_failures", "never_reconnected")
}

// Tolerance is how much worse a metric may get before a comparison calls it
// a regression: a share of the base value ("+10%") or an amount in the
// metric's unit ("+50ms", "+5").
type Tolerance struct {
	Percent  float64
	Absolute float64 // in the metric's unit: ms for durations
	IsAbs    bool
	Duration bool // written as a duration ("+50ms"): only for metrics in ms
	Text     string
}

// ParseTolerance reads "+10%", "+50ms" or "+5"; the sign may be left out.
func ParseTolerance(s string) (Tolerance, error) {
	text := strings.TrimSpace(s)
	v := strings.TrimPrefix(text, "+")
	bad := fmt.Errorf("%q is not a tolerance: write a share such as +10%%, a duration such as +50ms, or a number such as +5", s)
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return Tolerance{}, bad
		}
		return Tolerance{Percent: f, Text: "+" + p + "%"}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 && strings.IndexFunc(v, isUnitLetter) >= 0 {
		return Tolerance{Absolute: float64(d) / float64(time.Millisecond), IsAbs: true, Duration: true, Text: "+" + v}, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return Tolerance{}, bad
	}
	return Tolerance{Absolute: f, IsAbs: true, Text: "+" + v}, nil
}

func isUnitLetter(r rune) bool { return r >= 'a' && r <= 'z' || r == 'µ' }

// Allows reports whether going from base to new stays within the tolerance.
// Every compared metric is better when lower.
func (t Tolerance) Allows(base, new float64) bool {
	if t.IsAbs {
		return new <= base+t.Absolute+1e-9
	}
	return new <= base*(1+t.Percent/100)+1e-9
}

// isTimeMetric reports whether a compared metric is a time (in ms).
func isTimeMetric(metric string) bool {
	_, stat, _ := strings.Cut(metric, ".")
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	return len(stat) > 1 && (stat[0] == 'p' || stat[0] == 't') && digits(stat[1:])
}

// ParseToleranceFor parses the tolerance of metric (or of
// DefaultToleranceKey): a duration only fits a time, and the default covers
// counts and rates too.
func ParseToleranceFor(metric, s string) (Tolerance, error) {
	t, err := ParseTolerance(s)
	if err != nil || !t.Duration {
		return t, err
	}
	switch {
	case metric == DefaultToleranceKey:
		return Tolerance{}, fmt.Errorf("%q is a duration, but the default covers counts and rates too: write a share such as +10%%, and give times their own entries", s)
	case !isTimeMetric(metric):
		return Tolerance{}, fmt.Errorf("%q is a duration, but %s is not a time: write a share such as +10%% or a number such as +5", s, metric)
	}
	return t, nil
}

// Tolerances returns the profile's [compare] table parsed: the tolerance per
// metric, and the default for the others (ok false when the table sets
// none). The profile was validated, so every entry parses.
func (p *Profile) Tolerances() (perMetric map[string]Tolerance, def Tolerance, ok bool) {
	perMetric = map[string]Tolerance{}
	for k, v := range p.Compare {
		t, err := ParseToleranceFor(k, v)
		if err != nil {
			continue
		}
		if k == DefaultToleranceKey {
			def, ok = t, true
			continue
		}
		perMetric[k] = t
	}
	return perMetric, def, ok
}

// compareTable checks every [compare] entry: a known metric (or default)
// and a tolerance.
func (c *checker) compareTable() {
	keys := make([]string, 0, len(c.p.Compare))
	for k := range c.p.Compare {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	known := CompareMetrics()
	for _, k := range keys {
		if k != DefaultToleranceKey && !slices.Contains(known, k) {
			msg := fmt.Sprintf("is not a metric a comparison knows; use one of %s, or %s", strings.Join(known, ", "), DefaultToleranceKey)
			if s := closest(k, append(known, DefaultToleranceKey)); s != "" {
				msg = fmt.Sprintf("is not a metric a comparison knows; did you mean %q? (known: %s, %s)", s, strings.Join(known, ", "), DefaultToleranceKey)
			}
			c.bad([]string{"compare", k}, "%s", msg)
			continue
		}
		if _, err := ParseToleranceFor(k, c.p.Compare[k]); err != nil {
			c.bad([]string{"compare", k}, "%v", err)
		}
	}
}

// ReadTolerances reads only the [compare] table of the profile at path, as
// Tolerances returns it: `wsstorm compare` needs the tolerances, not the
// rest, which may name environment variables the comparing machine lacks.
// The error, if any, is an Errors naming the file and line of each problem.
func ReadTolerances(path string) (perMetric map[string]Tolerance, def Tolerance, ok bool, err error) {
	data, err := readProfile(path)
	if err != nil {
		return nil, def, false, Errors{{File: path, Msg: "cannot read the profile: " + err.Error(), err: err}}
	}
	if e := textProblem(path, data); e != nil {
		return nil, def, false, Errors{e}
	}
	src := string(data)
	var raw map[string]any
	if _, err := toml.Decode(src, &raw); err != nil {
		return nil, def, false, Errors{syntaxError(path, src, err)}
	}
	var p Profile
	d := newDecoder(path)
	d.lines = indexLines(src)
	if tbl, found := raw["compare"]; found {
		d.unify([]string{"compare"}, tbl, reflect.ValueOf(&p.Compare).Elem())
	}
	(&checker{p: &p, d: d}).compareTable()
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, def, false, d.errs
	}
	perMetric, def, ok = p.Tolerances()
	return perMetric, def, ok, nil
}
