package main

import (
	"context"
	"fmt"
	"io"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// validateCmd checks profiles without running them; with none, the
// built-in default, as `wsstorm run` runs it. Its output is a verdict per
// profile, in order: "ok" on stdout, or the profile's problems on stderr;
// warnings (what a run would miss, though it can run) go to stderr before
// the verdict and leave the exit code at 0.
func validateCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", "wsstorm validate [PROFILE]... [--set key=value]... [--scale F | --quick]", stderr)
	var sets stringList
	var sf scaleFlags
	fs.Var(&sets, "set", "override a profile key before validating (repeatable)")
	sf.register(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	sc, err := sf.scale("validate")
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		paths = []string{""} // the built-in default
	}
	var invalid error
	for _, path := range paths {
		p, err := loadScaled(path, sets, sc, stderr)
		if err != nil {
			fmt.Fprintln(stderr, err) // this profile's verdict, before the next one's
			invalid = &usageError{}
			continue
		}
		target := fmt.Sprintf("%d embedded nodes", p.Target.Nodes)
		switch {
		case p.Target.Mode == profile.ModeExternal && len(p.Target.URLs) > 0:
			target = fmt.Sprintf("external target of %d URLs, %s first", len(p.Target.URLs), p.Redact(profile.RedactURL(p.Target.URLs[0])))
		case p.Target.Mode == profile.ModeExternal:
			target = "external target " + p.Redact(profile.RedactURL(p.Target.URL))
		}
		name := path
		if path == "" {
			name = "the built-in default profile " + profile.BuiltinPath
		}
		fmt.Fprintf(stdout, "%s: ok (profile %s: %d clients, %s, %d chaos steps, %s)\n",
			name, p.Name, p.Fleet.Clients, target, len(p.Chaos), p.Duration.D())
	}
	return invalid
}
