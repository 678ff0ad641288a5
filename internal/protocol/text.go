package protocol

import (
	"fmt"
	"regexp"
)

// jsonString returns s as a JSON string, as JavaScript's JSON.stringify
// writes it, so that a message framed here is the one a JavaScript server
// echoes back.
func jsonString(s string) string { return jsQuote(s) }

// templateRef is a {{name}} reference, as package tmpl finds them (its
// name has no braces and no quotes). This package is a leaf and cannot use
// tmpl's; TestTemplateRulesAreTmpls holds the two to the same rules.
var templateRef = regexp.MustCompile(`\{\{\s*([^{}"]*?)\s*\}\}`)

// halfRef is half a reference, which package tmpl refuses: {{ and a name
// with no }}, or a name between a single { and }}. Other braces are JSON's.
var halfRef = regexp.MustCompile(`\{\{\s*[A-Za-z_]|(?:^|[^{])\{\s*[A-Za-z_]\w*\s*\}\}`)

// checkTemplate reports half a {{name}} reference in s, an option's value
// that becomes part of a message, which the fleet would refuse.
func checkTemplate(s string) error {
	if halfRef.MatchString(templateRef.ReplaceAllString(s, "\x00")) {
		return fmt.Errorf("has half a {{name}} template variable: write {{client}}, {{session}}, {{key}}, {{uuid}} or {{seq}} whole")
	}
	return nil
}
