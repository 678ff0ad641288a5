package profile

import (
	"reflect"
	"slices"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// SetKeys lists the keys --set takes, dotted, in the schema's order, for
// shell completion. They come from the lists behind the decoder's "did you
// mean" suggestions (a table's keys, a chaos step's keys of any action), so
// a key the schema gains is listed with nothing else to change. An array of
// tables is listed whole and at index 0, which stands for any entry; a map
// (thresholds, headers, on_close) as its key and a dot, the prefix of its
// entries.
func SetKeys() []string {
	return tableKeys(nil, reflect.TypeFor[Profile]())
}

// tableKeys lists the keys under path of a table decoded into struct t.
func tableKeys(path []string, t reflect.Type) []string {
	var out []string
	for _, name := range action.KeysOf(reflect.New(t).Interface()) {
		i, _ := fieldIndex(t, name)
		out = append(out, valueKeys(join(path, name), t.Field(i).Type)...)
	}
	return out
}

// valueKeys lists the keys a value of type t at path is set by.
func valueKeys(path []string, t reflect.Type) []string {
	switch {
	case isDuration(t):
	case t == stepType:
		var out []string
		for _, k := range allStepKeys() {
			out = append(out, keyString(join(path, k)))
		}
		return out
	case t == protoOptsType || t == clientOptsType:
		o, _ := optTableOf(t)
		var out []string
		for _, name := range o.names() {
			opts, _ := o.options(name)
			for _, k := range optstruct.Keys(opts) {
				if k := keyString(join(path, k)); !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
		}
		return out
	case t.Kind() == reflect.Struct:
		return tableKeys(path, t)
	case t.Kind() == reflect.Map:
		return []string{keyString(path) + "."}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && !isDuration(t.Elem()):
		return append([]string{keyString(path)}, valueKeys(join(path, "0"), t.Elem())...)
	}
	return []string{keyString(path)}
}
