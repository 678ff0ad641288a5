package profile

import (
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/action"
)

// A [[chaos]] step's keys besides at and action belong to its action, and
// an override may change the action (--set chaos.1.action=restart): the
// decoder keeps those keys undecoded until every override is applied, then
// decodes them into the action's parameter struct (resolveSteps), whose
// fields carry the action's defaults for the keys the step left out.

// unifyStep decodes a [[chaos]] table: at and action into the step, the
// other keys kept for resolveSteps.
func (d *decoder) unifyStep(path []string, raw any, rv reflect.Value) {
	tbl, ok := raw.(map[string]any)
	if !ok {
		d.typeError(path, rv.Type(), raw)
		return
	}
	for _, name := range d.sortedKeys(path, tbl) {
		sub := join(path, name)
		switch name {
		case "at":
			d.unify(sub, tbl[name], rv.FieldByName("At"))
		case "action":
			d.unify(sub, tbl[name], rv.FieldByName("Action"))
		default:
			d.keepStepKey(sub, rawKey{raw: tbl[name], set: d.set})
		}
	}
}

// keepStepKey keeps the chaos step key at path, whose last element is the
// key's name, for resolveSteps, and marks it given.
func (d *decoder) keepStepKey(path []string, v rawKey) {
	step := keyString(path[:len(path)-1])
	if d.steps[step] == nil {
		d.steps[step] = map[string]rawKey{}
	}
	d.steps[step][path[len(path)-1]] = v
	k := keyString(path)
	d.seen[k] = source{line: d.lines[k], set: v.set}
	delete(d.failed, k)
}

// setStepKey applies an override of a chaos step's key: segs[:i] name the
// step, segs[i] the key. An override of a part of the key (an element of a
// list) waits until the step's keys are decoded (applyStepSets); a later
// override of the whole key replaces it.
func (d *decoder) setStepKey(segs []string, i int, raw any, text string) {
	if i != len(segs)-1 {
		d.stepSets = append(d.stepSets, stepSet{segs: segs, i: i, raw: raw, text: text})
		return
	}
	d.dropStepSets(keyString(segs))
	d.keepStepKey(segs, rawKey{raw: raw, text: text, set: true})
}

// dropStepSets forgets the pending overrides of parts of the key k and of
// the keys below it: a new value of k replaces them.
func (d *decoder) dropStepSets(k string) {
	d.stepSets = slices.DeleteFunc(d.stepSets, func(s stepSet) bool {
		return strings.HasPrefix(keyString(s.segs)+".", k+".")
	})
}

// applyStepSets applies the overrides of parts of chaos steps' keys, in
// order, to the decoded parameters: as any other override, with the
// messages of any other (an index out of range, a key an integer lacks).
func (d *decoder) applyStepSets(p *Profile) {
	set := d.set
	d.set = true
	defer func() { d.set = set }()
	// Applied, they are pending no more (and walk drops pending ones).
	sets := d.stepSets
	d.stepSets = nil
	for _, s := range sets {
		n, err := strconv.Atoi(s.segs[s.i-1])
		if err != nil || n < 0 || n >= len(p.Chaos) || p.Chaos[n].Params == nil {
			continue // not a step, or its action is unknown: said already
		}
		a, _ := action.Lookup(p.Chaos[n].Action)
		name := s.segs[s.i]
		pv := reflect.ValueOf(p.Chaos[n].Params).Elem()
		fi, ok := fieldIndex(pv.Type(), name)
		switch {
		case !ok && !slices.Contains(allStepKeys(), name):
			d.stepUnknownKey(s.segs[:s.i+1], a)
		case !ok:
			d.fail(s.segs[:s.i+1], "does not apply to a %s step: a %s takes %s", a.Name(), a.Name(), andList(action.Keys(a)))
		default:
			if key := s.segs[:s.i+1]; !d.given(key...) {
				d.seen[keyString(key)] = source{set: true}
			}
			d.walk(pv.Field(fi), s.segs, s.i+1, s.raw, s.text)
		}
	}
}

// resolveSteps decodes each chaos step's kept keys into its action's
// parameter struct. A key no action takes is an unknown key; a key of
// another action is left for the checker, which says it does not apply.
func (d *decoder) resolveSteps(p *Profile) {
	all := allStepKeys()
	for i := range p.Chaos {
		step := []string{"chaos", strconv.Itoa(i)}
		kept := d.steps[keyString(step)]
		a, known := action.Lookup(p.Chaos[i].Action)
		var pv reflect.Value
		if known {
			params := a.Params()
			p.Chaos[i].Params = params
			pv = reflect.ValueOf(params).Elem()
		}
		for _, name := range d.keptKeys(step, kept) {
			sub := join(step, name)
			if !slices.Contains(all, name) {
				set := d.set
				d.set = kept[name].set // an override's unknown key is the override's
				d.stepUnknownKey(sub, a)
				d.set = set
				continue
			}
			if !known {
				continue
			}
			fi, ok := fieldIndex(pv.Type(), name)
			if !ok {
				continue
			}
			d.unifyKept(sub, kept[name], pv.Field(fi))
		}
	}
}

// unifyKept decodes a kept key (a chaos step's, a protocol option) at path
// into rv, as the file or the override that gave it.
func (d *decoder) unifyKept(path []string, v rawKey, rv reflect.Value) {
	set := d.set
	d.set = v.set
	if v.set {
		v.raw = asText(v.raw, v.text, rv.Type())
	}
	d.unify(path, v.raw, rv)
	d.set = set
}

// keptKeys returns the names of a step's kept keys in file order, the
// overrides' after them.
func (d *decoder) keptKeys(step []string, kept map[string]rawKey) []string {
	tbl := make(map[string]any, len(kept))
	for name := range kept {
		tbl[name] = nil
	}
	return d.sortedKeys(step, tbl)
}

// allStepKeys lists the keys any chaos step takes, in the order the actions
// list them, at and action first.
func allStepKeys() []string {
	out := []string{"at", "action"}
	for _, name := range action.Names() {
		a, _ := action.Lookup(name)
		for _, k := range action.KeysOf(a.Params()) {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// stepUnknownKey reports a key at path that no chaos step takes, suggesting
// one of a's keys (of any action's, when a is nil).
func (d *decoder) stepUnknownKey(path []string, a action.Action) {
	names := allStepKeys()
	if a != nil {
		names = action.Keys(a)
	}
	if s := closest(path[len(path)-1], names); s != "" {
		d.fail(path, "unknown key (did you mean %s?)", keyString(join(path[:len(path)-1], s)))
		return
	}
	d.fail(path, "unknown key: %s takes %s", keyString(path[:len(path)-1]), strings.Join(names, ", "))
}

// markStepKeys marks as given, for Validate, the keys of a step built in
// code: at, action and every key whose value is not zero.
func (d *decoder) markStepKeys(i int, s ChaosStep) {
	step := []string{"chaos", strconv.Itoa(i)}
	d.seen[keyString(join(step, "at"))] = source{}
	d.seen[keyString(join(step, "action"))] = source{}
	if s.Params == nil {
		return
	}
	v := reflect.Indirect(reflect.ValueOf(s.Params))
	if v.Kind() != reflect.Struct {
		return
	}
	for f := range v.NumField() {
		if name := action.TOMLName(v.Type().Field(f)); name != "" && !v.Field(f).IsZero() {
			d.seen[keyString(join(step, name))] = source{}
		}
	}
}

// stepParams gives a step built in code its action's parameter struct: a
// step without one gets the action's zero keys (Validate applies no
// defaults), and a step with another struct gets the keys of the same names,
// its other keys that are set being keys that do not apply to the step.
func (c *checker) stepParams(i int, a action.Action) {
	s := &c.p.Chaos[i]
	want := reflect.TypeOf(a.Params())
	if reflect.TypeOf(s.Params) == want && action.HasParams(s.Params) {
		return
	}
	params := reflect.New(want.Elem())
	if from := reflect.Indirect(reflect.ValueOf(s.Params)); from.Kind() == reflect.Struct {
		keys := action.Keys(a)
		for f := range from.NumField() {
			name := action.TOMLName(from.Type().Field(f))
			fi, ok := fieldIndex(want.Elem(), name)
			switch {
			case ok && from.Field(f).Type() == want.Elem().Field(fi).Type:
				params.Elem().Field(fi).Set(from.Field(f))
			case ok && !from.Field(f).IsZero():
				c.bad(stepKey(i, name), "is a %v, but a %s step's %s is a %v", from.Field(f).Type(), a.Name(), name, want.Elem().Field(fi).Type)
			case name != "" && !from.Field(f).IsZero():
				c.bad(stepKey(i, name), "does not apply to a %s step: remove it; a %s takes %s", a.Name(), a.Name(), andList(keys))
			}
		}
	}
	s.Params = params.Interface()
}

// stepKey is the path of step i's key name (of the step itself without one).
func stepKey(i int, name ...string) []string {
	return join([]string{"chaos", strconv.Itoa(i)}, name...)
}

// stepChecker is the action.Checker of step i: keys are the step's own.
type stepChecker struct {
	c    *checker
	step int
}

func (s stepChecker) path(key string) []string {
	if key == "" {
		return stepKey(s.step)
	}
	return stepKey(s.step, strings.Split(key, ".")...)
}

func (s stepChecker) Given(key string) bool { return s.c.d.given(s.path(key)...) }

func (s stepChecker) Bad(key, format string, args ...any) {
	s.c.bad(s.path(key), format, args...)
}

func (s stepChecker) BadAt(key, where, format string, args ...any) {
	s.c.badAt(s.path(key), s.path(where), format, args...)
}

func (s stepChecker) Default(key string) string { return s.c.dflt(s.path(key)...) }

func (s stepChecker) Profile() action.Facts {
	p := s.c.p
	f := action.Facts{
		External: p.Target.Mode == ModeExternal,
		Pings:    p.Fleet.PingInterval.D() > 0,
	}
	if f.Pings {
		f.PongTimeout = p.Fleet.PongWait()
	}
	if s.c.nodesOK() {
		f.Nodes = p.Target.Nodes
	}
	return f
}

// actionList writes the actions' names for a message: "a", "b" or "c".
func actionList() string { return orList(action.Names()) }
