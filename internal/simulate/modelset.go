package simulate

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ModelSet is one override of a model key (wsstorm simulate --model-set):
// a model.json key and its value, a number or (pool) a string.
type ModelSet struct {
	Key   string
	Value any
}

// ParseModelSets reads key=value overrides and checks them against
// model.json's keys and their types, before any model is at hand: a bad
// one then costs neither a calibration nor a results directory.
func ParseModelSets(sets []string) ([]ModelSet, error) {
	fields := map[string]any{}
	b, _ := json.Marshal(DefaultModel())
	_ = json.Unmarshal(b, &fields)
	var out []ModelSet
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want key=value, e.g. workers=16", s)
		}
		old, known := fields[k]
		if !known {
			keys := slices.Sorted(maps.Keys(fields))
			return nil, fmt.Errorf("%q: unknown key %q: want one of %s", s, k, strings.Join(keys, ", "))
		}
		if _, isString := old.(string); isString {
			out = append(out, ModelSet{k, v})
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q: %s wants a number", s, k)
		}
		if k == "workers" && f != math.Trunc(f) {
			return nil, fmt.Errorf("%q: workers wants a whole number", s)
		}
		out = append(out, ModelSet{k, f})
	}
	return out, nil
}

// With returns m with the overrides applied, the result checked whole: an
// override that fits the built-in model may not fit a fitted one.
func (m Model) With(sets []ModelSet) (Model, error) {
	if len(sets) == 0 {
		return m, nil
	}
	fields := map[string]any{}
	b, _ := json.Marshal(m)
	_ = json.Unmarshal(b, &fields)
	for _, s := range sets {
		fields[s.Key] = s.Value
	}
	b, _ = json.Marshal(fields)
	var out Model
	if err := json.Unmarshal(b, &out); err != nil {
		return m, err
	}
	if err := out.Validate(); err != nil {
		return m, err
	}
	return out, nil
}
