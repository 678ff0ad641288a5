package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/profiles"
)

// fuzzSecret is the value of the only variable the fuzz target's
// environment has, WS_TOKEN.
const fuzzSecret = "fuzz-s3cret-9d2b"

// fuzzEnv is the fuzz target's environment: fixed, so that a run does not
// depend on the machine's variables or files.
var fuzzEnv = environment{
	lookupEnv: func(name string) (string, bool) {
		if name == "WS_TOKEN" {
			return fuzzSecret, true
		}
		return "", name == "EMPTY"
	},
	readFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist },
}

// FuzzParse checks that parsing never panics and returns either a valid
// profile or an Errors of at least one problem, each with a message, none
// showing a secret. The seed corpus in testdata/fuzz/FuzzParse holds the
// shipped profiles and the bad-profile corpus of the repository's testdata.
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
	f.Add([]byte("[target]\nmode = \"external\"\nurl = \"wss://u:${WS_TOKEN}@h/s?t=${WS_TOKEN}&d=$$1\"\n"+
		"headers = { Authorization = \"Bearer ${WS_TOKEN}\", X-E = \"${EMPTY}\" }\n"+
		"[target.tls]\nserver_name = \"h\"\n[fleet]\nread_limit = 125\nwrite_timeout = \"1s\"\n"), "target.headers.X-Id=${WS_TOKEN}")

	f.Fuzz(func(t *testing.T, data []byte, set string) {
		indexLines(string(data)) // copes with any input, TOML or not
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		p, err := parse(data, "fuzz.toml", sets, fuzzEnv)
		if err != nil {
			if !strings.Contains(string(data)+set, fuzzSecret) && strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("an error shows the secret:\n%v", err)
			}
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
		if slices.Contains(p.Target.Secrets, fuzzSecret) && strings.Contains(p.Redact(p.Target.URL+" "+fmt.Sprint(p.Target.Headers)), fuzzSecret) {
			t.Fatalf("Redact leaves the secret in %q %v", p.Target.URL, p.Target.Headers)
		}
		// What Parse accepts, Validate accepts too.
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted a profile Validate rejects:\n%v", err)
		}
	})
}
