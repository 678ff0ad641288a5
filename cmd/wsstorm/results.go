package main

import (
	"errors"
	"strings"

	"github.com/wsstorm/wsstorm/internal/results"
)

// resultsError is the error of a command (prefix "wsstorm: " or "wsstorm
// merge: ") whose results could not all be written to dir: a line per file
// that went to the fallback directory instead, or was lost, then what to do.
func resultsError(prefix, dir string, err error) error {
	var fe *results.FallbackError
	if !errors.As(err, &fe) {
		return cannotRunf("%swriting results to %s: %s", prefix, dir, trimPrefix(err))
	}
	var b strings.Builder
	for _, line := range strings.Split(fe.Error(), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	b.WriteString(prefix + "the results in " + dir + " are incomplete")
	if fe.Fallback != "" {
		b.WriteString(" (what they lack is in " + fe.Fallback + ")")
	}
	b.WriteString(": make room on its filesystem, or choose another directory with --out")
	return cannotRunf("%s", b.String())
}
