package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wsstorm/wsstorm/internal/optstruct"
	"github.com/wsstorm/wsstorm/internal/protocol"
)

// protocolsCmd lists the protocol presets fleet.protocol names, with their
// options, defaults and the sources their facts were read from.
func protocolsCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("protocols", "wsstorm protocols [NAME]...", stderr)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		names = protocol.Names()
	}
	var b strings.Builder
	for i, name := range names {
		p, ok := protocol.Lookup(name)
		if !ok {
			return usagef("wsstorm protocols: %q is not a protocol preset: the presets are %s", name, strings.Join(protocol.Names(), ", "))
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n  %s\n  read from: %s\n  [fleet.protocol_options]\n", p.Name(), p.About(), p.Source())
		for _, o := range optstruct.Describe(p.Options()) {
			fmt.Fprintf(&b, "    %s = %s\n        %s\n", o.Name, o.Default, o.Doc)
		}
	}
	_, err := io.WriteString(stdout, b.String())
	return err
}
