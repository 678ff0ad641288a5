package storm

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestCheckLimits(t *testing.T) {
	limit, ok := openFileLimit()
	if !ok {
		t.Skip("no open-file limit on this platform")
	}
	fits := int(limit-reservedFiles) / 2
	for _, tc := range []struct {
		name    string
		clients int
		mode    string
		want    []string // in the message; none: no error
	}{
		{"fits", min(fits, 1000), "embedded", nil},
		{"too many for the embedded target's share", fits + 1, "embedded", []string{"open files", "embedded target", "fleet.clients to at most"}},
		{"more than one source address has ports", portsPerAddress + 1, "external", []string{"source ports"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := profile.Defaults()
			p.Fleet.Clients = tc.clients
			p.Target.Mode = tc.mode
			err := CheckLimits(&p)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrCannotRun) {
				t.Fatalf("err = %v, want ErrCannotRun", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
		})
	}
}
