package tmpl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var clientVars = []string{"client", "session", "key", "uuid", "seq"}

func TestParse(t *testing.T) {
	tm, err := Parse("/s?c={{client}}&s={{ session }}&n={{seq}}&k={{key}}", clientVars)
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{{"/s?c=", 0}, {"&s=", 1}, {"&n=", 4}, {"&k=", 2}}
	if !slices.Equal(tm.Parts(), want) {
		t.Errorf("parts %v, want %v", tm.Parts(), want)
	}
	if _, ok := tm.Static(); ok {
		t.Error("a template with variables is static")
	}
	tm, err = Parse("a{{uuid}}b", clientVars)
	if want := []Part{{"a", 3}, {"b", None}}; err != nil || !slices.Equal(tm.Parts(), want) {
		t.Errorf("parts %v %v, want %v", tm.Parts(), err, want)
	}
	for _, s := range []string{"plain {x}", ""} {
		tm, err := Parse(s, clientVars)
		if got, ok := tm.Static(); err != nil || !ok || got != s {
			t.Errorf("Parse(%q).Static() = %q, %v (%v)", s, got, ok, err)
		}
	}
	// Braces around a reference are literal text.
	tm, err = Parse("{{{client}}}", clientVars)
	if want := []Part{{"{", 0}, {"}", None}}; err != nil || !slices.Equal(tm.Parts(), want) {
		t.Errorf("parts %v %v, want %v", tm.Parts(), err, want)
	}
}

func TestParseProblems(t *testing.T) {
	const unpaired = "has half a template variable, a {{ or }} without its pair: write a variable as {{name}}"
	use := `use "{{client}}", "{{session}}", "{{key}}", "{{uuid}}" or "{{seq}}"`
	long := "{{" + strings.Repeat("x", 50) + "}}"
	for _, tc := range []struct {
		s          string
		want, name string // the message; the name at fault
	}{
		{"ws://h/?c={{client}}&s={{ session }}", "", ""},
		{"{{uuid}}-{{key}}-{{seq}}", "", ""},
		{"plain {text}", "", ""},
		{"{{clinet}}", `"{{clinet}}" is not a template variable here: ` + use, "clinet"},
		{"{{ sesion }}", `"{{ sesion }}" is not a template variable here: ` + use, "sesion"},
		{"{{client}}{{node}}", `"{{node}}" is not a template variable here: ` + use, "node"},
		{"{{}}", `"{{}}" is not a template variable here: ` + use, ""},
		{long, `"{{xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… is not a template variable here: ` + use, strings.Repeat("x", 50)},
		{"{{ client", unpaired, ""},
		{"{{client}", unpaired, ""},
		{"{client}}", unpaired, ""},
		{"x{ seq }}", unpaired, ""},
		{"{{a{{client}}", unpaired, ""},
		{"{{node}} }}", `"{{node}}" is not a template variable here: ` + use, "node"},
		// JSON's braces are literal text.
		{"{{", "", ""},
		{"a}}b", "", ""},
		{"{{client}}}}", "", ""},
		{"{{{client}}{", "", ""},
		{`{"connect":{"token":"{{key}}","data":{"a":{"b":true}}}}`, "", ""},
		{`[{"x":{}},{{"y":1}}]`, "", ""},
		{`{"identifier":"{\"channel\":\"Chat\"}"}`, "", ""},
	} {
		_, err := Parse(tc.s, clientVars)
		var p *Problem
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Parse(%q): %v", tc.s, err)
		case tc.want == "":
		case !errors.As(err, &p):
			t.Errorf("Parse(%q) = %v, want a *Problem", tc.s, err)
		case err.Error() != tc.want || p.Name != tc.name:
			t.Errorf("Parse(%q) = %q (name %q), want %q (name %q)", tc.s, err, p.Name, tc.want, tc.name)
		}
	}
}

func TestExpand(t *testing.T) {
	value := func(name string) string { return "<" + name + ">" }
	for _, tc := range []struct{ s, want string }{
		{"", ""},
		{"plain", "plain"},
		{"{{node}}", "<node>"},
		{"{{ name }}/{{code}}", "<name>/<code>"},
		{"{{", "{{"},
		{"}}", "}}"},
		{"{{{node}}}", "{<node>}"},
		{"{{node}}}}", "<node>}}"},
		{"{{a{{node}}", "{{a<node>"},
	} {
		if got := Expand(tc.s, value); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.s, got, tc.want)
		}
		if has := HasRefs(tc.s); has != strings.Contains(tc.want, "<") {
			t.Errorf("HasRefs(%q) = %v", tc.s, has)
		}
	}
}
