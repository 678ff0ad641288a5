// Package tmpl parses the {{name}} templates of a profile: a client's URL
// and messages, and a restart hook's command, URL, headers and body. A
// template is parsed once into parts, so that rendering it is appending
// literals and values; the profile reports what is wrong with a template
// with Parse's Problem, and the fleet and the hooks render what it accepted.
package tmpl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ref matches a {{name}} reference, spaces inside the braces allowed. A
// name has no braces and no quotes: {{"a":1}} is JSON, not a reference.
var ref = regexp.MustCompile(`\{\{\s*([^{}"]*?)\s*\}\}`)

// None is the Var of a Part that no variable follows.
const None = -1

// Part is literal text followed by a reference to a variable: Var is the
// variable's index in the names Parse was given, or None.
type Part struct {
	Lit string
	Var int
}

// Template is a text with {{name}} references, parsed.
type Template struct {
	parts []Part
}

// Parse parses s, whose references may name only vars. The error, if any,
// is a *Problem: half a reference, a {{ and a name without its }} or a name
// and }} without its {{ (the first thing checked), or else the first
// reference to a name that is not in vars. Other braces are literal text,
// as JSON's are.
func Parse(s string, vars []string) (Template, error) {
	refs := ref.FindAllStringSubmatchIndex(s, -1)
	if unpaired(s, refs) {
		return Template{}, &Problem{Vars: vars}
	}
	var t Template
	last := 0
	for _, m := range refs {
		name := s[m[2]:m[3]]
		v := index(vars, name)
		if v == None {
			return Template{}, &Problem{Ref: s[m[0]:m[1]], Name: name, Vars: vars}
		}
		t.parts = append(t.parts, Part{Lit: s[last:m[0]], Var: v})
		last = m[1]
	}
	if last < len(s) || len(t.parts) == 0 {
		t.parts = append(t.parts, Part{Lit: s[last:], Var: None})
	}
	return t, nil
}

// A {{ or }} outside a reference is JSON's as often as a mistake: nested
// objects end in }} ({"connect":{"token":"t"}}). It is a mistake when it is
// half a reference: {{ and a name with no }} after it, or a name between a
// single { and }}. JSON never has either: its keys are quoted, and a value
// never follows { directly.
var (
	openRef  = regexp.MustCompile(`\{\{\s*[A-Za-z_]`)
	closeRef = regexp.MustCompile(`(?:^|[^{])\{\s*[A-Za-z_]\w*\s*\}\}`)
)

// unpaired reports whether s holds half a reference outside its references
// refs.
func unpaired(s string, refs [][]int) bool {
	var rest strings.Builder
	last := 0
	for _, m := range refs {
		rest.WriteString(s[last:m[0]])
		rest.WriteByte(0) // a reference's place: text on its two sides does not join
		last = m[1]
	}
	rest.WriteString(s[last:])
	return openRef.MatchString(rest.String()) || closeRef.MatchString(rest.String())
}

func index(vars []string, name string) int {
	for i, v := range vars {
		if v == name {
			return i
		}
	}
	return None
}

// Parts returns the template's parts in order; the caller must not change
// them. Every part but the last has a Var; the last may have None.
func (t Template) Parts() []Part { return t.parts }

// Static returns the text and true when t has no variables.
func (t Template) Static() (string, bool) {
	if len(t.parts) == 1 && t.parts[0].Var == None {
		return t.parts[0].Lit, true
	}
	return "", false
}

// Expand returns s with every reference replaced by value(name), whatever
// the name; a {{ or }} without its pair stays as it is. It renders a text
// that Parse accepted once and is rendered once (a restart hook's), and
// lets a caller check what surrounds the references (replacing them with a
// placeholder) before checking them.
func Expand(s string, value func(name string) string) string {
	refs := ref.FindAllStringSubmatchIndex(s, -1)
	if len(refs) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range refs {
		b.WriteString(s[last:m[0]])
		b.WriteString(value(s[m[2]:m[3]]))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// HasRefs reports whether s has a {{name}} reference, to any name.
func HasRefs(s string) bool { return ref.MatchString(s) }

// Problem is what is wrong with a template.
type Problem struct {
	// Ref is the reference to a name that is no variable, as written (e.g.
	// "{{ sesion }}"), and Name that name; both are "" when the problem is a
	// {{ or }} without its pair.
	Ref, Name string
	Vars      []string // the variables the template may name
}

// Error says what is wrong and how to write it, as a profile's reader
// reads it after the key.
func (p *Problem) Error() string {
	if p.Ref == "" {
		return "has half a template variable, a {{ or }} without its pair: write a variable as {{name}}"
	}
	return fmt.Sprintf("%s is not a template variable here: use %s", quoteShort(p.Ref), p.choices())
}

// choices writes the variables as "{{a}}", "{{b}} or "{{c}}", each quoted.
func (p *Problem) choices() string {
	q := make([]string, len(p.Vars))
	for i, v := range p.Vars {
		q[i] = strconv.Quote("{{" + v + "}}")
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// quoteShort quotes a reference, cut after 40 bytes: a message quotes what
// the profile wrote but need not repeat all of a long mistake.
func quoteShort(s string) string {
	const limit = 40
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "…"
	}
	return strconv.Quote(s)
}
