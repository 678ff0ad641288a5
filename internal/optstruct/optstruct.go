// Package optstruct reads the option structs of presets: a protocol
// preset's [fleet.protocol_options] and a client library's
// [fleet.client_options]. An option struct is a struct whose toml tags are
// the option names, in the words of the project the preset follows, whose
// doc tags say what each option is, and whose secret tags ("true") mark
// the options that may carry a credential. Profiles decode into it, and
// listings (wsstorm protocols, wsstorm clients) describe it.
package optstruct

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Keys lists the option names of opts, an option struct or a pointer to
// one, in field order.
func Keys(opts any) []string {
	var out []string
	for _, f := range fields(opts) {
		out = append(out, f.name)
	}
	return out
}

// Secret says whether option key of opts may carry a credential (its
// secret tag): a token, an auth object, connection params. Such a value
// given with --set is a secret, as a header is, and results never show it.
func Secret(opts any, key string) bool { return Tag(opts, key, "secret") == "true" }

// Doc returns what the doc tag of option key of opts says, or "".
func Doc(opts any, key string) string { return Tag(opts, key, "doc") }

// Tag returns the tag named tag of option key of opts, or "".
func Tag(opts any, key, tag string) string {
	for _, f := range fields(opts) {
		if f.name == key {
			return f.field.Tag.Get(tag)
		}
	}
	return ""
}

// Option describes one option, for listings.
type Option struct {
	Name    string
	Default string // as a profile writes it (TOML)
	Doc     string
}

// Describe lists the options of opts, with their values in it (the
// defaults, for a struct fresh from a preset), in field order.
func Describe(opts any) []Option {
	v := reflect.Indirect(reflect.ValueOf(opts))
	var out []Option
	for _, f := range fields(opts) {
		out = append(out, Option{Name: f.name, Default: TOML(v.Field(f.index)), Doc: f.field.Tag.Get("doc")})
	}
	return out
}

// TOML writes v, an option's value, as a TOML value.
func TOML(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		// A JSON string is a basic TOML string, escapes and all.
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v.String()) // a string always encodes
		return strings.TrimSuffix(b.String(), "\n")
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = TOML(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Float32, reflect.Float64:
		switch f := v.Float(); {
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		case math.IsNaN(f):
			return "nan"
		}
	}
	return fmt.Sprint(v.Interface())
}

// Error is what is wrong with one option's value.
type Error struct {
	Key string // the option's name
	Msg string // what is wrong and how to fix it
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// Bad returns the *Error of option key.
func Bad(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// field is one option of an option struct.
type field struct {
	name  string
	index int
	field reflect.StructField
}

// fields lists the options of opts: its fields with a toml name.
func fields(opts any) []field {
	t := reflect.Indirect(reflect.ValueOf(opts)).Type()
	var out []field
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name != "" && name != "-" {
			out = append(out, field{name: name, index: i, field: t.Field(i)})
		}
	}
	return out
}
