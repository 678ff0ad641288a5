package profile

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/wsstorm/wsstorm/internal/action"
)

// The toml package decodes leniently (keys match fields case-insensitively,
// integers go into Durations as nanoseconds) and stops at the first type
// error. decoder instead walks the parsed document against the schema's
// struct tags: unknown keys and wrong types are errors, every one is
// reported, and it records which keys were given and where.

// source is where a key's value came from.
type source struct {
	line int  // line in the file; 0 when unknown
	set  bool // true when a --set override gave it
}

type decoder struct {
	file   string
	lines  map[string]int    // key → line, from indexLines
	seen   map[string]source // keys the file or an override gave
	failed map[string]bool   // keys with an error already reported
	errs   Errors
	set    bool // decoding a --set override rather than the file
	// steps holds each chaos step's keys besides at and action, by the
	// step's key ("chaos.0"), undecoded until the step's action is known
	// (see resolveSteps).
	steps map[string]map[string]rawKey
	// stepSets holds the overrides of a part of a chaos step's key
	// (chaos.0.nodes.1=2), applied once the step's keys are decoded.
	stepSets []stepSet
	// scaled holds the keys --scale or --quick changed, whose errors end
	// with scaleNote: the value a message quotes is not the one written.
	scaled    map[string]bool
	scaleNote string
	// opts holds the tables of preset options ([fleet.protocol_options],
	// [fleet.client_options]) by table key, then option name, undecoded
	// until the preset is known (see resolveOptions).
	opts map[string]map[string]rawKey
}

// stepSet is an override of a part of a chaos step's key: segs[:i] name the
// step, segs[i] the key, the rest the part.
type stepSet struct {
	segs []string
	i    int
	raw  any
	text string
}

// rawKey is a chaos step's key as the file or an override gave it.
type rawKey struct {
	raw  any    // the TOML value
	text string // an override's value as written, for string-typed keys
	set  bool   // an override gave it
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:   file,
		lines:  map[string]int{},
		seen:   map[string]source{},
		failed: map[string]bool{},
		steps:  map[string]map[string]rawKey{},
		opts:   map[string]map[string]rawKey{},
	}
}

// fail reports a problem found while decoding the value at path.
func (d *decoder) fail(path []string, format string, args ...any) {
	k := keyString(path)
	d.failed[k] = true
	e := &Error{File: d.file, Line: d.lines[k], Key: k, Msg: fmt.Sprintf(format, args...)}
	if d.set {
		e.File, e.Line = SetFile, 0
	}
	d.errs = append(d.errs, e)
}

// given reports whether the file or an override gave the key at path.
func (d *decoder) given(path ...string) bool {
	_, ok := d.seen[keyString(path)]
	return ok
}

// Schema types the decoder treats apart from their kind.
var (
	durationType     = reflect.TypeFor[Duration]()
	timeDurationType = reflect.TypeFor[time.Duration]() // a chaos step's durations
	targetType       = reflect.TypeFor[Target]()
	stepType         = reflect.TypeFor[ChaosStep]()
)

// isDuration says whether t is written as a duration string.
func isDuration(t reflect.Type) bool { return t == durationType || t == timeDurationType }

// unify decodes raw, a value from the toml package, into rv, which has a
// schema type. It reports whether it decoded without error.
func (d *decoder) unify(path []string, raw any, rv reflect.Value) bool {
	k := keyString(path)
	d.seen[k] = source{line: d.lines[k], set: d.set}
	before := len(d.errs)
	switch t := rv.Type(); {
	case isDuration(t):
		d.unifyDuration(path, raw, rv)
	case t == stepType:
		d.unifyStep(path, raw, rv)
	case t == protoOptsType || t == clientOptsType:
		o, _ := optTableOf(t)
		d.unifyOptions(path, raw, o)
	case t.Kind() == reflect.Struct:
		d.unifyStruct(path, raw, rv)
	case t.Kind() == reflect.Map:
		d.unifyMap(path, raw, rv)
	case t.Kind() == reflect.Slice:
		d.unifySlice(path, raw, rv)
	default:
		d.unifyScalar(path, raw, rv)
	}
	return len(d.errs) == before
}

// unifyDuration decodes a duration string into a Duration or a
// time.Duration.
func (d *decoder) unifyDuration(path []string, raw any, rv reflect.Value) {
	s, ok := raw.(string)
	if !ok {
		d.typeError(path, rv.Type(), raw)
		return
	}
	var v Duration
	if err := v.UnmarshalText([]byte(s)); err != nil {
		d.fail(path, "%v", err)
		return
	}
	if rv.Type() == timeDurationType {
		rv.SetInt(int64(v.D()))
		return
	}
	rv.Set(reflect.ValueOf(v))
}

// unifyStruct decodes a table into a struct, key by key: a key the struct
// has no field for is an unknown key.
func (d *decoder) unifyStruct(path []string, raw any, rv reflect.Value) {
	t := rv.Type()
	tbl, ok := raw.(map[string]any)
	if !ok {
		d.typeError(path, t, raw)
		return
	}
	for _, name := range d.sortedKeys(path, tbl) {
		sub := join(path, name)
		// target.nodes is a count for the embedded target and the
		// proxy, and [[target.nodes]], the nodes and their restart
		// hooks, for an external one.
		if _, isArray := asArray(tbl[name]); isArray && t == targetType && name == "nodes" {
			d.unify(sub, tbl[name], rv.FieldByName("NodeHooks"))
			continue
		}
		i, ok := fieldIndex(t, name)
		if !ok {
			d.unknownKey(sub, t)
			continue
		}
		d.unify(sub, tbl[name], rv.Field(i))
	}
}

// unifyMap decodes a table into a map; its entries merge into the map's,
// so on_close overrides code by code.
func (d *decoder) unifyMap(path []string, raw any, rv reflect.Value) {
	t := rv.Type()
	tbl, ok := raw.(map[string]any)
	if !ok {
		d.typeError(path, t, raw)
		return
	}
	if rv.IsNil() {
		rv.Set(reflect.MakeMap(t))
	}
	for _, name := range d.sortedKeys(path, tbl) {
		ev := reflect.New(t.Elem()).Elem()
		if d.unify(join(path, name), tbl[name], ev) {
			rv.SetMapIndex(reflect.ValueOf(name).Convert(t.Key()), ev)
		}
	}
}

// unifySlice decodes an array; it replaces the one before it, and what was
// given for it.
func (d *decoder) unifySlice(path []string, raw any, rv reflect.Value) {
	t := rv.Type()
	arr, ok := asArray(raw)
	if !ok {
		d.typeError(path, t, raw)
		return
	}
	k := keyString(path)
	for key := range d.seen {
		if strings.HasPrefix(key, k+".") {
			delete(d.seen, key)
		}
	}
	for key := range d.steps {
		if strings.HasPrefix(key, k+".") {
			delete(d.steps, key)
		}
	}
	out := reflect.MakeSlice(t, len(arr), len(arr))
	for i, el := range arr {
		d.unify(join(path, strconv.Itoa(i)), el, out.Index(i))
	}
	rv.Set(out)
}

// unifyScalar decodes a string, a boolean or a number.
func (d *decoder) unifyScalar(path []string, raw any, rv reflect.Value) {
	t := rv.Type()
	switch k := t.Kind(); {
	case k == reflect.String:
		if s, ok := raw.(string); ok {
			rv.SetString(s)
			return
		}
	case k == reflect.Bool:
		if b, ok := raw.(bool); ok {
			rv.SetBool(b)
			return
		}
	case k >= reflect.Int && k <= reflect.Int64:
		if n, ok := raw.(int64); ok {
			d.setInt(path, n, rv)
			return
		}
	case k >= reflect.Uint && k <= reflect.Uint64:
		if n, ok := raw.(int64); ok {
			d.setUint(path, n, rv)
			return
		}
	case k == reflect.Float64:
		switch n := raw.(type) {
		case float64:
			rv.SetFloat(n)
			return
		case int64:
			rv.SetFloat(float64(n))
			return
		}
	default:
		panic("profile: no decoding for schema type " + t.String())
	}
	d.typeError(path, t, raw)
}

func (d *decoder) setInt(path []string, n int64, rv reflect.Value) {
	if rv.OverflowInt(n) {
		d.fail(path, "%d is too large", n)
		return
	}
	rv.SetInt(n)
}

func (d *decoder) setUint(path []string, n int64, rv reflect.Value) {
	switch {
	case n < 0:
		d.fail(path, "%d is negative: write an integer of 0 or more", n)
	case rv.OverflowUint(uint64(n)):
		d.fail(path, "%d is too large", n)
	default:
		rv.SetUint(uint64(n))
	}
}

// sortedKeys returns the keys of tbl in file order, so errors come in the
// order a reader meets them.
func (d *decoder) sortedKeys(path []string, tbl map[string]any) []string {
	keys := make([]string, 0, len(tbl))
	for name := range tbl {
		keys = append(keys, name)
	}
	line := func(name string) int { return d.lines[keyString(join(path, name))] }
	slices.SortFunc(keys, func(a, b string) int {
		if la, lb := line(a), line(b); la != lb {
			return la - lb
		}
		return strings.Compare(a, b)
	})
	return keys
}

func asArray(raw any) ([]any, bool) {
	switch v := raw.(type) {
	case []any:
		return v, true
	case []map[string]any: // an array of tables
		out := make([]any, len(v))
		for i, m := range v {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// fieldIndex returns the index of the field of struct type t whose toml tag
// is name. Names match exactly: strict profiles take no other spelling.
func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tag := action.TOMLName(t.Field(i)); tag != "" && tag == name {
			return i, true
		}
	}
	return 0, false
}

func (d *decoder) unknownKey(path []string, t reflect.Type) {
	names := action.KeysOf(reflect.New(t).Interface())
	if s := closest(path[len(path)-1], names); s != "" {
		d.fail(path, "unknown key (did you mean %s?)", keyString(join(path[:len(path)-1], s)))
		return
	}
	where := "the top level"
	if len(path) > 1 {
		where = keyString(path[:len(path)-1])
	}
	d.fail(path, "unknown key: %s takes %s", where, strings.Join(names, ", "))
}

func (d *decoder) typeError(path []string, t reflect.Type, raw any) {
	found := describe(raw)
	if secretKey(path) {
		found = kindOf(raw) // a value meant for a URL or a header may be a secret
	}
	msg := fmt.Sprintf("expected %s, found %s", typeName(t, path), found)
	switch s, isString := raw.(string); {
	case isDuration(t):
		if n, ok := raw.(int64); ok {
			msg += fmt.Sprintf(`: write it in quotes with a unit, e.g. "%ds"`, n)
		}
	case isString && t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			msg += ": remove the quotes"
		}
	case t.Kind() == reflect.String && !isString && raw != nil:
		if _, ok := raw.(map[string]any); !ok {
			msg += ": put it in quotes"
		}
	}
	d.fail(path, "%s", msg)
}

// typeName says what a value of schema type t looks like in TOML.
func typeName(t reflect.Type, path []string) string {
	if isDuration(t) {
		return `a duration string such as "5s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct:
		return "a table"
	case reflect.Map:
		return "a table of " + strings.TrimPrefix(typeName(t.Elem(), nil), "a ") + "s"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct && len(path) > 0 {
			return fmt.Sprintf("an array of tables ([[%s]])", path[len(path)-1])
		}
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(typeName(t.Elem(), nil), "an "), "a ") + "s"
	}
	return t.String()
}

// describe says what a TOML value is, for "found ..." in an error.
// secretKey reports whether a value at path may hold a secret: the external
// target's URL and headers.
func secretKey(path []string) bool {
	return len(path) >= 2 && path[0] == "target" && (path[1] == "url" || path[1] == "headers")
}

// kindOf names the kind of a raw value without showing it.
func kindOf(raw any) string {
	if _, ok := raw.(string); ok {
		return "a string"
	}
	return describe(raw)
}

func describe(raw any) string {
	switch v := raw.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40]
			for !utf8.ValidString(v) {
				v = v[:len(v)-1]
			}
			return fmt.Sprintf("the string %q…", v)
		}
		return fmt.Sprintf("the string %q", v)
	case int64:
		return fmt.Sprintf("the integer %d", v)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) || v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprintf("the float %s", strconv.FormatFloat(v, 'f', 1, 64))
		}
		return fmt.Sprintf("the float %v", v)
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case time.Time:
		return "a date or time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", raw)
}

// apply applies one --set key=value override to the profile at root.
func (d *decoder) apply(root reflect.Value, arg string) {
	d.set = true
	defer func() { d.set = false }()
	key, text, ok := strings.Cut(arg, "=")
	key = strings.TrimSpace(key)
	segs := strings.Split(key, ".")
	if !ok || slices.Contains(segs, "") {
		// Name the key only: the value may be a secret.
		d.errs = append(d.errs, &Error{File: SetFile, Key: key,
			Msg: "malformed override: write key=value, e.g. fleet.clients=5000 or chaos.0.at=12s"})
		return
	}
	d.walk(root, segs, 0, setValue(text), text)
}

// walk applies the override of segs, whose value is raw (text as written),
// to rv, which segs[:from] name.
func (d *decoder) walk(rv reflect.Value, segs []string, from int, raw any, text string) {
	for i := from; i < len(segs); i++ {
		seg := segs[i]
		path := segs[:i+1]
		last := i == len(segs)-1
		switch t := rv.Type(); {
		case t == stepType && seg != "at" && seg != "action":
			d.setStepKey(segs, i, raw, text)
			return
		case t == protoOptsType || t == clientOptsType:
			o, _ := optTableOf(t)
			d.setOption(o, segs, i, raw, text)
			return
		case !isDuration(t) && t.Kind() == reflect.Struct:
			fi, ok := fieldIndex(t, seg)
			if !ok {
				d.unknownKey(path, t)
				return
			}
			rv = rv.Field(fi)
		case t.Kind() == reflect.Slice:
			n, err := strconv.Atoi(seg)
			switch {
			case err != nil || n < 0:
				d.fail(path, "%q is not an index: write an index from 0, e.g. %s.0", seg, keyString(segs[:i]))
				return
			case n >= rv.Len():
				d.fail(path, "index %d is out of range: %s has %d entries%s", n, keyString(segs[:i]), rv.Len(), action.IndexRange(rv.Len()))
				return
			}
			rv = rv.Index(n)
		case t.Kind() == reflect.Map && !last:
			d.fail(segs, "%s is %s and has no key %s", keyString(path), typeName(t.Elem(), path), segs[i+1])
			return
		case t.Kind() == reflect.Map:
			if rv.IsNil() {
				rv.Set(reflect.MakeMap(t))
			}
			ev := reflect.New(t.Elem()).Elem()
			if d.unify(path, asText(raw, text, ev.Type()), ev) {
				rv.SetMapIndex(reflect.ValueOf(seg).Convert(t.Key()), ev)
			}
			return
		default:
			d.fail(segs, "%s is %s and has no key %s", keyString(segs[:i]), typeName(t, segs[:i]), seg)
			return
		}
	}
	// A new value replaces what earlier overrides set of its parts (a
	// whole chaos array, the steps' pending parts with it).
	d.dropStepSets(keyString(segs))
	d.unify(segs, asText(raw, text, rv.Type()), rv)
}

// setValue reads the value of an override as a TOML value if it is one, and
// as a string otherwise.
func setValue(text string) any {
	text = strings.TrimSpace(text)
	var doc map[string]any
	if _, err := toml.Decode("v = "+text, &doc); err == nil && len(doc) == 1 {
		if v, ok := doc["v"]; ok {
			return v
		}
	}
	return text
}

// asText gives a string-typed key its override as written: name=2024 means
// the string "2024", not the integer.
func asText(raw any, text string, t reflect.Type) any {
	if _, isString := raw.(string); isString {
		return raw
	}
	if isDuration(t) || t.Kind() == reflect.String {
		return strings.TrimSpace(text)
	}
	return raw
}
