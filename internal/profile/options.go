package profile

import (
	"reflect"
	"strings"

	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/optstruct"
	"github.com/wsstorm/wsstorm/internal/protocol"
)

// A preset's options table ([fleet.protocol_options], [fleet.client_options])
// belongs to the preset a key of [fleet] names, and an override may change
// that key: as a chaos step's keys, the options are kept undecoded until
// every override is applied, then decoded into the preset's option struct
// (resolveOptions), whose fields carry the preset's defaults for the
// options left out.

// optTable is one of [fleet]'s tables of a preset's options.
type optTable struct {
	typ    reflect.Type // the schema type of the table's field
	key    string       // the table's key under [fleet]
	preset string       // the key under [fleet] that names the preset
	what   string       // what the preset is, in messages: "protocol"
	eg     string       // an option, as a table's example
	// options returns a fresh option struct of the preset named name.
	options func(name string) (any, bool)
	names   func() []string
	// params is where the decoded option struct goes.
	params func(f *Fleet) *any
}

var (
	protoOptsType  = reflect.TypeFor[ProtocolOptions]()
	clientOptsType = reflect.TypeFor[ClientOptions]()
)

// optTables lists [fleet]'s tables of preset options.
func optTables() []optTable {
	return []optTable{
		{
			typ: protoOptsType, key: "protocol_options", preset: "protocol", what: "protocol", eg: `namespace = "/chat"`,
			options: func(name string) (any, bool) {
				pr, ok := protocol.Lookup(name)
				if !ok {
					return nil, false
				}
				return pr.Options(), true
			},
			names:  protocol.Names,
			params: func(f *Fleet) *any { return &f.ProtocolOptions.Params },
		},
		{
			typ: clientOptsType, key: "client_options", preset: "client", what: "client", eg: "reconnectionDelay = 2000",
			options: func(name string) (any, bool) {
				l, ok := clientlib.Lookup(name)
				if !ok {
					return nil, false
				}
				return l.Options(), true
			},
			names:  clientlib.Names,
			params: func(f *Fleet) *any { return &f.ClientOptions.Params },
		},
	}
}

// optTableOf returns the options table whose schema type is t.
func optTableOf(t reflect.Type) (optTable, bool) {
	for _, o := range optTables() {
		if o.typ == t {
			return o, true
		}
	}
	return optTable{}, false
}

// unifyOptions keeps the options of a table of preset options.
func (d *decoder) unifyOptions(path []string, raw any, o optTable) {
	tbl, ok := raw.(map[string]any)
	if !ok {
		d.fail(path, "must be a table of the %s's options, e.g. [fleet.%s] with %s, not %s", o.what, o.key, o.eg, describe(raw))
		return
	}
	for _, name := range d.sortedKeys(path, tbl) {
		d.keepOption(o, join(path, name), rawKey{raw: tbl[name], set: d.set})
	}
}

// keepOption keeps the option at path, whose last element is its name.
func (d *decoder) keepOption(o optTable, path []string, v rawKey) {
	if d.opts[o.key] == nil {
		d.opts[o.key] = map[string]rawKey{}
	}
	d.opts[o.key][path[len(path)-1]] = v
	k := keyString(path)
	d.seen[k] = source{line: d.lines[k], set: v.set}
	delete(d.failed, k)
}

// setOption applies an override of option segs[i]; an option is set whole.
func (d *decoder) setOption(o optTable, segs []string, i int, raw any, text string) {
	if i != len(segs)-1 {
		d.fail(segs, "sets a part of %s option %s: set the whole option, e.g. %s=...", o.what, segs[i], keyString(segs[:i+1]))
		return
	}
	d.keepOption(o, segs, rawKey{raw: raw, text: text, set: true})
}

// resolveOptions decodes the kept options of every table into its preset's
// option struct. Options without a preset, and options the preset does not
// have, are errors that name the preset's options.
func (d *decoder) resolveOptions(p *Profile) {
	for _, o := range optTables() {
		d.resolveTable(p, o)
	}
}

// resolveTable decodes the kept options of table o.
func (d *decoder) resolveTable(p *Profile, o optTable) {
	base := []string{"fleet", o.key}
	kept := d.opts[o.key]
	names := make(map[string]any, len(kept))
	for name := range kept {
		names[name] = nil
	}
	keys := d.sortedKeys(base, names)
	name := reflect.ValueOf(p.Fleet).FieldByIndex(fleetField(o.preset)).String()
	opts, known := o.options(name)
	if !known {
		if name == "" && len(keys) > 0 {
			d.fail(join(base, keys[0]), "is a %s option, and fleet.%s is not set: name the %s (%s), or remove [fleet.%s]", o.what, o.preset, o.what, strings.Join(o.names(), ", "), o.key)
		}
		return // an unknown preset is the checker's to report
	}
	*o.params(&p.Fleet) = opts
	ov := reflect.ValueOf(opts).Elem()
	for _, k := range keys {
		sub := join(base, k)
		v := kept[k]
		fi, ok := fieldIndex(ov.Type(), k)
		if !ok {
			set := d.set
			d.set = v.set // an override's unknown option is the override's
			d.unknownOption(sub, o, name, opts)
			d.set = set
			continue
		}
		d.unifyKept(sub, v, ov.Field(fi))
	}
}

// fleetField returns the index of the field of Fleet whose key is name.
func fleetField(name string) []int {
	i, ok := fieldIndex(reflect.TypeFor[Fleet](), name)
	if !ok {
		panic("profile: [fleet] has no key " + name)
	}
	return []int{i}
}

// unknownOption reports an option that preset, of table o, does not have.
func (d *decoder) unknownOption(path []string, o optTable, preset string, opts any) {
	names := optstruct.Keys(opts)
	if s := closest(path[len(path)-1], names); s != "" {
		d.fail(path, "unknown option of %s %s (did you mean %s?)", o.what, preset, keyString(join(path[:len(path)-1], s)))
		return
	}
	d.fail(path, "unknown option of %s %s: it takes %s", o.what, preset, strings.Join(names, ", "))
}
