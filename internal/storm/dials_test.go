package storm

import (
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestAutoDials(t *testing.T) {
	embedded := &profile.Profile{Target: profile.Target{Mode: profile.ModeEmbedded}}
	external := &profile.Profile{Target: profile.Target{Mode: profile.ModeExternal}}
	proxy := &profile.Profile{Target: profile.Target{Mode: profile.ModeProxy}}
	for _, tc := range []struct {
		name      string
		p         *profile.Profile
		clients   int
		elsewhere bool
		files     uint64
		known     bool
		want      int
	}{
		// 20,000 files: 16,064 held by 8,000 clients and their embedded
		// ends and the reserve; half the rest, two files a dial.
		{"embedded", embedded, 8000, false, 20000, true, 984},
		// The target in wsstorm serve processes: one file a connection.
		{"target elsewhere", embedded, 8000, true, 20000, true, 5968},
		{"external", external, 4000, false, 20000, true, 4000}, // capped at the clients
		// The proxy's two ends of each connection besides the client's.
		{"proxy", proxy, 5000, false, 20000, true, 822},
		{"proxy capped", proxy, 1000, false, 1 << 20, true, 1000},
		{"no room", embedded, 10000, false, 20000, true, 1},
		{"unknown limit", external, 500, false, 0, false, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := AutoDials(tc.p, tc.clients, tc.elsewhere, tc.files, tc.known)
			if got != tc.want {
				t.Errorf("%d dials, want %d", got, tc.want)
			}
		})
	}
}

func TestAutoDialsText(t *testing.T) {
	if got := autoDialsText(984, 8000, 20000, true); got != "fleet.max_dialing = 0: up to 984 dials in flight for 8000 clients (from the open-file limit, 20000)" {
		t.Errorf("%q", got)
	}
	if got := autoDialsText(34, 9900, 20000, true); !strings.HasPrefix(got, "warning: ") || !strings.Contains(got, "only 34 dials") {
		t.Errorf("too few dials: %q", got)
	}
	if got := autoDialsText(10, 10, 20000, true); strings.HasPrefix(got, "warning") {
		t.Errorf("one dial a client is not too few: %q", got)
	}
}
