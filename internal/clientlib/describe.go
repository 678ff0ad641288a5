package clientlib

import (
	"fmt"
	"strings"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// Describe says what `wsstorm clients` shows of l: its name, the exact
// version its source was read at, what it does after a close and the files
// it was read from; with options, its [fleet.client_options] too, each with
// its default as a profile writes it and what it is.
func Describe(l Library, options bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (version %s)\n  %s\n  read from: %s\n", l.Name(), l.Version(), l.About(), l.Source())
	opts := l.Options()
	if !options {
		// The listing names every option at its default on one line; NAME
		// gives each one's doc.
		var kv []string
		for _, o := range optstruct.Describe(opts) {
			kv = append(kv, o.Name+" = "+o.Default)
		}
		fmt.Fprintf(&b, "  options: %s\n", strings.Join(kv, ", "))
		return b.String()
	}
	pr, err := l.Build(opts)
	switch {
	case err != nil:
		// A preset whose defaults do not build is a bug its own test
		// catches; say so rather than hide it.
		fmt.Fprintf(&b, "  its defaults do not build: %v\n", err)
	case pr.Unsimulable() != "":
		fmt.Fprintf(&b, "  wsstorm simulate cannot model it: %s\n", pr.Unsimulable())
	}
	b.WriteString("  [fleet.client_options]\n")
	for _, o := range optstruct.Describe(opts) {
		fmt.Fprintf(&b, "    %s = %s\n        %s\n", o.Name, o.Default, o.Doc)
	}
	return b.String()
}
