package profile

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in a profile as a Go duration string
// such as "1.5s" or "250ms".
type Duration struct{ time.Duration }

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return d.Duration }

// Dur makes a Duration.
func Dur(d time.Duration) Duration { return Duration{d} }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write a Go duration such as \"500ms\", \"5s\" or \"1m30s\"", string(b))
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }
