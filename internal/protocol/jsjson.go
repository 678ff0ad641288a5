package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// JSON as JavaScript writes it: the presets send what their JavaScript
// clients send (JSON.stringify's key order and escapes), and match what
// servers write back.

// jsonPattern returns a regular expression that matches s, JSON text, as a
// server writes it again: its template references match any value without
// a quote or backslash, and <, >, &, U+2028 and U+2029 match as they are or
// escaped, as Rails, Go and Jason may escape them.
func jsonPattern(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range templateRef.FindAllStringIndex(s, -1) {
		literalPattern(&b, s[last:m[0]])
		b.WriteString(`[^"\\]*`)
		last = m[1]
	}
	literalPattern(&b, s[last:])
	return b.String()
}

func literalPattern(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString(`(?:<|\\u003[cC])`)
		case '>':
			b.WriteString(`(?:>|\\u003[eE])`)
		case '&':
			b.WriteString(`(?:&|\\u0026)`)
		case '\u2028', '\u2029':
			fmt.Fprintf(b, `(?:\x{%x}|\\u%x)`, r, r)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
}

// jsKind is the type of a JSON value.
type jsKind int

const (
	jsNull jsKind = iota
	jsBool
	jsNumber
	jsString
	jsArray
	jsObject
)

// jsValue is a JSON value as JavaScript holds it once parsed, so that it
// is written again as JSON.stringify writes it: an object's keys in
// JavaScript's order (array indexes first, ascending, then the others as
// first written; a repeated key keeps its place and takes the last value),
// numbers as JavaScript prints them.
type jsValue struct {
	kind  jsKind
	text  string    // a string's value; a number's, boolean's or null's JSON text
	keys  []string  // an object's keys
	elems []jsValue // an object's values, by keys, or an array's elements
}

// parseJSObject parses s, a JSON object whose strings may hold template
// references.
func parseJSObject(s string) (*jsValue, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := parseJS(dec)
	if err == nil && v.kind != jsObject {
		err = errors.New("is not an object")
	}
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("has text after the object")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("must be a JSON object, e.g. '{\"token\":\"${TOKEN}\"}' (template references inside its strings): %v", err)
	}
	return &v, v.checkTemplates()
}

// checkTemplates checks the template references in v's strings and keys.
func (v *jsValue) checkTemplates() error {
	if v.kind == jsString {
		return checkTemplate(v.text)
	}
	for i := range v.elems {
		if err := checkTemplate(v.memberName(i)); err != nil {
			return err
		}
		if err := v.elems[i].checkTemplates(); err != nil {
			return err
		}
	}
	return nil
}

// parseJS reads one JSON value from dec.
func parseJS(dec *json.Decoder) (jsValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jsValue{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			v := jsValue{kind: jsArray}
			for dec.More() {
				e, err := parseJS(dec)
				if err != nil {
					return v, err
				}
				v.elems = append(v.elems, e)
			}
			_, err := dec.Token()
			return v, err
		}
		v := jsValue{kind: jsObject}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return v, err
			}
			e, err := parseJS(dec)
			if err != nil {
				return v, err
			}
			v.set(k.(string), e)
		}
		_, err := dec.Token()
		return v, err
	case string:
		return jsValue{kind: jsString, text: t}, nil
	case json.Number:
		n, err := jsNumberText(t)
		return jsValue{kind: jsNumber, text: n}, err
	case bool:
		return jsValue{kind: jsBool, text: strconv.FormatBool(t)}, nil
	}
	return jsValue{kind: jsNull, text: "null"}, nil
}

// set sets member k of object v to e, in JavaScript's order of keys.
func (v *jsValue) set(k string, e jsValue) {
	if i := slices.Index(v.keys, k); i >= 0 {
		v.elems[i] = e
		return
	}
	at := len(v.keys)
	if n, ok := arrayIndex(k); ok {
		at = slices.IndexFunc(v.keys, func(o string) bool { m, idx := arrayIndex(o); return !idx || m > n })
		if at < 0 {
			at = len(v.keys)
		}
	}
	v.keys = slices.Insert(v.keys, at, k)
	v.elems = slices.Insert(v.elems, at, e)
}

// arrayIndex says whether k is an array index, a key JavaScript puts first.
func arrayIndex(k string) (uint64, bool) {
	n, err := strconv.ParseUint(k, 10, 32)
	return n, err == nil && n < math.MaxUint32 && strconv.FormatUint(n, 10) == k
}

// memberName is the name of v's member i: an object's key, an array's
// index.
func (v *jsValue) memberName(i int) string {
	if v.kind == jsArray {
		return strconv.Itoa(i)
	}
	return v.keys[i]
}

// How jsValue.write writes a value's JSON.
type jsonForm int

const (
	// exactJSON is JSON.stringify's.
	exactJSON jsonForm = iota
	// quotedJSON is exactJSON as the content of a JSON string: the
	// string's value is exactJSON.
	quotedJSON
)

// stringify returns v written in form; quotedJSON without the quotes.
func (v *jsValue) stringify(form jsonForm) string {
	var b strings.Builder
	v.write(&b, form)
	return b.String()
}

func (v *jsValue) write(b *strings.Builder, form jsonForm) {
	str := func(s string) {
		q := jsQuote(s)
		if form == quotedJSON {
			q = jsQuote(q)
			q = q[1 : len(q)-1]
		}
		b.WriteString(q)
	}
	switch v.kind {
	case jsString:
		str(v.text)
	case jsArray, jsObject:
		open, end := "[", "]"
		if v.kind == jsObject {
			open, end = "{", "}"
		}
		b.WriteString(open)
		for i := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if v.kind == jsObject {
				str(v.keys[i])
				b.WriteByte(':')
			}
			v.elems[i].write(b, form)
		}
		b.WriteString(end)
	default:
		b.WriteString(v.text)
	}
}

// jsQuote returns s as a JSON string, as JSON.stringify writes it.
func jsQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsNumberText returns n as JavaScript prints the number it parses to
// (Number.prototype.toString: 1.0 is 1, 1e21 is 1e+21, 1e-7 is 1e-7).
func jsNumberText(n json.Number) (string, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return "", fmt.Errorf("%s is beyond JavaScript's numbers", n)
	}
	if f == 0 {
		return "0", nil
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// The shortest digits that read back as f, and the exponent of the
	// first: f = 0.digits × 10^point.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	point, k := x+1, len(digits)
	switch {
	case k <= point && point <= 21:
		return sign + digits + strings.Repeat("0", point-k), nil
	case 0 < point && point <= 21:
		return sign + digits[:point] + "." + digits[point:], nil
	case -6 < point && point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits, nil
	}
	frac := ""
	if k > 1 {
		frac = "." + digits[1:]
	}
	es := "+"
	if point-1 < 0 {
		es = "-"
	}
	return sign + digits[:1] + frac + "e" + es + strconv.Itoa(abs(point-1)), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
