package storm

import (
	"errors"
	"fmt"
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
			[]string{"need about 4815 MiB of memory", "1024 MiB is available", "at most 19114"}},
		{"all at once", 50000, profile.ModeEmbedded, machine{files: 1000, memory: 1 << 30, filesKnown: true, memoryKnown: true},
			[]string{"source ports", "open files", "MiB of memory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := profile.Defaults()
			p.Fleet.Clients = tc.clients
			p.Target.Mode = tc.mode
			err := checkLimits(&p, Limits{}, tc.m)
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

// TestCheckPorts: ports are counted per (source address, destination) pair,
// for this process's clients, or for all of them when every segment runs on
// this machine.
func TestCheckPorts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		clients int
		sources []string
		urls    []string
		l       Limits
		want    string // in the message; "": fits
	}{
		{"one source, fits", portsPerAddress, nil, nil, Limits{}, ""},
		{"three sources", 60000, []string{"127.0.0.2-127.0.0.4"}, nil, Limits{}, ""},
		{"two sources are too few", 60000, []string{"127.0.0.2", "127.0.0.3"}, nil, Limits{},
			"at least 3 addresses (e.g. \"127.0.0.2-127.0.0.4\""},
		{"no source: suggests how many", 60000, nil, nil, Limits{}, "at least 3 addresses"},
		{"a segment on its own machine", 60000, nil, nil, Limits{Segment: 3, Segments: 4}, ""},
		{"all segments on this machine", 60000, nil, nil, Limits{Segment: 0, Segments: 4, Processes: 4}, "at least 3 addresses"},
		{"destinations split the load", 40000, nil,
			[]string{"ws://127.0.0.1:9001/", "ws://127.0.0.1:9002/"}, Limits{}, ""},
		{"one destination twice", 40000, nil,
			[]string{"ws://127.0.0.1:9001/a", "ws://127.0.0.1:9001/b"}, Limits{}, "source ports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := profile.Defaults()
			p.Fleet.Clients = tc.clients
			p.Fleet.SourceAddrs = tc.sources
			if tc.urls != nil {
				p.Target.Mode = profile.ModeExternal
				p.Target.URLs = tc.urls
			}
			msg := checkPorts(&p, tc.l)
			if tc.want == "" && msg != "" || !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want one with %q", msg, tc.want)
			}
		})
	}
}

func TestSegmentClients(t *testing.T) {
	total := 0
	for seg := range 3 {
		total += SegmentClients(20, seg, 3)
	}
	if total != 20 || SegmentClients(20, 0, 3) != 7 || SegmentClients(20, 2, 3) != 6 || SegmentClients(20, 0, 0) != 20 {
		t.Errorf("segments of 20 clients over 3: %d, %d, %d", SegmentClients(20, 0, 3), SegmentClients(20, 1, 3), SegmentClients(20, 2, 3))
	}
}

func TestPlanServes(t *testing.T) {
	m := machine{files: 20000, filesKnown: true}
	for _, tc := range []struct {
		clients, nodes int
		want           []int // nil: an error
	}{
		{2000, 3, []int{3}},
		{60000, 8, []int{1, 1, 1, 1, 1, 1, 1, 1}}, // 16,875 a node at its most crowded
		{30000, 8, []int{2, 2, 2, 2}},
		{35000, 5, []int{1, 1, 1, 1, 1}},
		{17000, 1, []int{1}},
		{20000, 1, nil},
		{60000, 4, nil}, // 33,750 a node at its most crowded
	} {
		p := profile.Defaults()
		p.Fleet.Clients, p.Target.Nodes = tc.clients, tc.nodes
		got, err := planServes(&p, m)
		if tc.want == nil {
			if err == nil || !strings.Contains(err.Error(), "raise target.nodes") {
				t.Errorf("%d clients on %d nodes: %v, %v; want an error", tc.clients, tc.nodes, got, err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%d clients on %d nodes: %v, %v; want %v", tc.clients, tc.nodes, got, err, tc.want)
		}
	}
}

func TestPortsWarning(t *testing.T) {
	p := profile.Defaults()
	p.Fleet.Clients = 60000
	p.Fleet.SourceAddrs = []string{"127.0.0.2-127.0.0.5"} // 15,000 a pair
	if w := PortsWarning(&p, Limits{}); !strings.Contains(w, "up to 15000 connections share one (source, destination) pair") || !strings.Contains(w, "5 source addresses") {
		t.Errorf("warning %q", w)
	}
	p.Fleet.SourceAddrs = []string{"127.0.0.2-127.0.0.6"} // 12,000
	if w := PortsWarning(&p, Limits{}); w != "" {
		t.Errorf("12,000 a pair: warning %q", w)
	}
}
