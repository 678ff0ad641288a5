package main

import (
	"fmt"
	"io"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func validateCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "wsstorm validate PROFILE... [--set key=value]...", stderr)
	var sets stringList
	fs.Var(&sets, "set", "override a profile key before validating (repeatable)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "wsstorm validate: name at least one profile file")
		return exitUsage
	}
	code := exitPassed
	for _, path := range paths {
		p, err := profile.Load(path, sets)
		if err != nil {
			printProfileError(stderr, err)
			code = exitUsage
			continue
		}
		target := fmt.Sprintf("%d embedded nodes", p.Target.Nodes)
		if p.Target.Mode == profile.ModeExternal {
			target = "external target " + p.Redact(profile.RedactURL(p.Target.URL))
		}
		fmt.Fprintf(stdout, "%s: ok (profile %s: %d clients, %s, %d chaos steps, %s)\n",
			path, p.Name, p.Fleet.Clients, target, len(p.Chaos), p.Duration.D())
	}
	return code
}
