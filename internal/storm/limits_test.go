package storm

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestCheckLimits(t *testing.T) {
	roomy := machine{files: 1 << 20, memory: 1 << 40, filesKnown: true, memoryKnown: true}
	for _, tc := range []struct {
		name    string
		clients int
		mode    string
		m       machine
		want    []string // in the message; none: no error
	}{
		{"fits", 10000, profile.ModeEmbedded, roomy, nil},
		{"unknown limits are not checked", 20000, profile.ModeEmbedded, machine{}, nil},
		{"files, with the embedded target's share", 10000, profile.ModeEmbedded,
			machine{files: 20000, filesKnown: true},
			[]string{"10000 clients need about 20064 open files", "embedded target", "at most 9968", "separate process"}},
		{"files, external target", 19937, "external", machine{files: 20000, filesKnown: true},
			[]string{"need about 20001 open files", "at most 19936"}},
		{"ports per source address", portsPerAddress + 1, "external", roomy,
			[]string{"source ports", "at most 28232"}},
		{"memory", 100000, profile.ModeEmbedded, machine{memory: 1 << 30, memoryKnown: true},
			[]string{"need about 3253 MiB of memory", "1024 MiB is available", "at most 28672"}},
		{"all at once", 50000, profile.ModeEmbedded, machine{files: 1000, memory: 1 << 30, filesKnown: true, memoryKnown: true},
			[]string{"source ports", "open files", "MiB of memory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := profile.Defaults()
			p.Fleet.Clients = tc.clients
			p.Target.Mode = tc.mode
			err := checkLimits(&p, tc.m)
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

func TestThisMachine(t *testing.T) {
	m := thisMachine()
	if m.filesKnown && m.files < 64 || m.memoryKnown && m.memory < 1<<20 {
		t.Fatalf("implausible limits: %+v", m)
	}
}
