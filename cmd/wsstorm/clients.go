package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wsstorm/wsstorm/internal/clientlib"
)

// clientsCmd lists the client-library presets fleet.client names; with
// names, each one's options and their defaults too.
func clientsCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("clients", "wsstorm clients [NAME]...", stderr)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	names := fs.Args()
	options := len(names) > 0
	if !options {
		names = clientlib.Names()
	}
	var b strings.Builder
	for i, name := range names {
		l, ok := clientlib.Lookup(name)
		if !ok {
			hint := ""
			if s := clientlib.Suggest(name); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			return usagef("wsstorm clients: %q is not a client preset%s: the presets are %s", name, hint, strings.Join(clientlib.Names(), ", "))
		}
		if i > 0 && options {
			b.WriteString("\n")
		}
		b.WriteString(clientlib.Describe(l, options))
	}
	if !options {
		b.WriteString("\nwsstorm clients NAME shows a preset's [fleet.client_options] and their defaults.\n")
	}
	_, err := io.WriteString(stdout, b.String())
	return err
}
