package main

import (
	"context"
	"fmt"
	"io"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// validateCmd checks profiles without running them. Its output is a verdict
// per file, in order: "ok" on stdout, or the file's problems on stderr.
func validateCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", "wsstorm validate PROFILE... [--set key=value]...", stderr)
	var sets stringList
	fs.Var(&sets, "set", "override a profile key before validating (repeatable)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("wsstorm validate: name at least one profile file")
	}
	var invalid error
	for _, path := range paths {
		p, err := loadProfile(path, sets)
		if err != nil {
			fmt.Fprintln(stderr, err) // this file's verdict, before the next file's
			invalid = &usageError{}
			continue
		}
		target := fmt.Sprintf("%d embedded nodes", p.Target.Nodes)
		if p.Target.Mode == profile.ModeExternal {
			target = "external target " + p.Redact(profile.RedactURL(p.Target.URL))
		}
		fmt.Fprintf(stdout, "%s: ok (profile %s: %d clients, %s, %d chaos steps, %s)\n",
			path, p.Name, p.Fleet.Clients, target, len(p.Chaos), p.Duration.D())
	}
	return invalid
}
