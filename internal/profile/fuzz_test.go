package profile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsstorm/wsstorm/profiles"
)

// FuzzParse checks that Parse never panics and returns either a valid
// profile or an Errors of at least one problem, each with a message.
func FuzzParse(f *testing.F) {
	shippedFiles, err := fs.Glob(profiles.FS, "*.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range shippedFiles {
		data, err := fs.ReadFile(profiles.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
		f.Add(data, "chaos.0.at=12s")
	}
	fixtures, err := filepath.Glob("testdata/*.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "fleet.reconnect.on_close.3001=stop")
	}

	f.Fuzz(func(t *testing.T, data []byte, set string) {
		indexLines(string(data)) // copes with any input, TOML or not
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		p, err := Parse(data, "fuzz.toml", sets)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a profile and an error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			for _, e := range es {
				if e.Msg == "" {
					t.Fatalf("error without a message: %#v", e)
				}
			}
			return
		}
		if p == nil {
			t.Fatal("Parse returned neither a profile nor an error")
		}
		// What Parse accepts, Validate accepts too.
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted a profile Validate rejects:\n%v", err)
		}
	})
}
