// Package profiles holds the profiles shipped with wsstorm, embedded in the
// binary: default.toml, the profile `wsstorm run` uses when given none, and
// one profile per scenario.
package profiles

import "embed"

// Default is the text of default.toml, the built-in default profile.
//
//go:embed default.toml
var Default []byte

// FS holds every shipped profile, by file name ("no-jitter.toml").
//
//go:embed *.toml
var FS embed.FS
