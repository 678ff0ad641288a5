package profile

import (
	"strconv"
	"strings"
)

// SetFile is the File of an Error found in a --set override rather than in
// the profile's file.
const SetFile = "--set"

// Error is one problem with a profile: where it is and what is wrong.
type Error struct {
	File string // the profile's path, "(built-in)", or SetFile
	Line int    // 1-based line in File; 0 when unknown
	Key  string // dotted key such as "fleet.clients" or "chaos.0.at"; "" when none
	Msg  string // what is wrong and how to fix it

	err error // the cause, when there is one (a read error)
}

// Error returns "file:line: key: msg", leaving out the parts that are unknown.
// An error in an override reads "--set key: msg".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File == SetFile {
		b.WriteString(SetFile)
		if e.Key != "" {
			b.WriteString(" " + e.Key)
		}
		b.WriteString(": ")
	} else {
		if e.File != "" {
			b.WriteString(e.File)
			if e.Line > 0 {
				b.WriteString(":" + strconv.Itoa(e.Line))
			}
			b.WriteString(": ")
		}
		if e.Key != "" {
			b.WriteString(e.Key + ": ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the cause of e, if any.
func (e *Error) Unwrap() error { return e.err }

// Errors is every problem found in a profile, in file order.
type Errors []*Error

// Error returns one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// under reports whether some error is of the key k or of a key below it.
func (es Errors) under(k string) bool {
	for _, e := range es {
		if e.Key == k || strings.HasPrefix(e.Key, k+".") {
			return true
		}
	}
	return false
}
