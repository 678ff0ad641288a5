package realtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReadNodeLog(t *testing.T) {
	events, err := ReadNodeLog("testdata/node.log")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 {
		t.Fatalf("%d events, want 4 (the empty line skipped)", len(events))
	}
	d := events[2]
	if d.Ev != "disconnect" || d.Client != 4 || d.Code != 1005 || d.Sent != 1005 || d.Initiator != "server" ||
		d.Reason != "server shutting down" || d.Backend != "socketio-2" || d.PID != 17295 || d.RemotePort != 41400 {
		t.Errorf("disconnect read as %+v", d)
	}
	if want := time.UnixMicro(1796617600103750); !d.T.Equal(want) {
		t.Errorf("T = %v, want %v (to the microsecond)", d.T, want)
	}
	if events[1].Client != -1 {
		t.Errorf("a line without a client has Client %d, want -1", events[1].Client)
	}
}

func TestReadCentrifugoLog(t *testing.T) {
	lines, err := ReadCentrifugoLog("testdata/centrifugo.log")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		i                                            int
		message, client, user, channel, reason, addr string
		status                                       int
	}{
		{1, "http request", "", "", "", "", "4", 101},
		{2, "client authenticated", "b0a65c41-8f1b-471e-9e7b-fb0316f36902", "client-4", "", "", "", 0},
		{3, "client subscribed to channel", "b0a65c41-8f1b-471e-9e7b-fb0316f36902", "client-4", "client-4", "", "", 0},
		{5, "closing client connection", "b0a65c41-8f1b-471e-9e7b-fb0316f36902", "client-4", "", "shutdown", "", 0},
	}
	for _, tt := range tests {
		l := lines[tt.i]
		if l.Message != tt.message || l.Client != tt.client || l.User != tt.user || l.Channel != tt.channel ||
			l.Reason != tt.reason || l.Addr != tt.addr || l.Status != tt.status {
			t.Errorf("line %d read as %+v", tt.i, l)
		}
	}
	if want := time.Date(2026, 12, 7, 4, 28, 22, 0, time.UTC); !lines[4].Time.Equal(want) {
		t.Errorf("time %v, want %v", lines[4].Time, want)
	}
}

func TestReadAccessLog(t *testing.T) {
	entries, err := ReadAccessLog("testdata/access.log")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		client, status, tries int
		backend               string
		start                 time.Time
	}{
		{4, 101, 1, "127.0.0.1:18422", time.UnixMilli(1796617598932)},
		{4, 101, 2, "127.0.0.1:18423", time.UnixMilli(1796617599932)},
		{-1, 404, 0, "", time.UnixMilli(1796617601800)},
	}
	if len(entries) != len(tests) {
		t.Fatalf("%d entries, want %d", len(entries), len(tests))
	}
	for i, tt := range tests {
		e := entries[i]
		if e.Client() != tt.client || e.Status != tt.status || e.Tries() != tt.tries || e.Backend() != tt.backend || !e.Start().Equal(tt.start) {
			t.Errorf("entry %d: client %d status %d tries %d backend %q start %v; want %+v",
				i, e.Client(), e.Status, e.Tries(), e.Backend(), e.Start(), tt)
		}
	}
}

func TestReadMetrics(t *testing.T) {
	m, err := ReadMetrics("testdata/scrape.metrics")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Sum(CentrifugoAccepted, nil); got != 670 {
		t.Errorf("accepted = %v, want 670", got)
	}
	if got := m.Sum(CentrifugoAccepted, map[string]string{"client_name": "realtest"}); got != 3 {
		t.Errorf("accepted by realtest = %v, want 3", got)
	}
	if got := m.ByLabel(CentrifugoDisconnects, "code"); got["3503"] != 2 || got["4500"] != 1 || len(got) != 2 {
		t.Errorf("disconnects by code = %v", got)
	}
	if got := m.Sum(NodeDisconnects, map[string]string{"note": `a "quoted" \ value`}); got != 4 {
		t.Errorf("a label with escapes: %v, want 4", got)
	}
	if got := m.Sum("process_start_time_seconds", nil); got != 1.79661759e9 {
		t.Errorf("an unlabelled series: %v", got)
	}
}

func TestScrapesInOrder(t *testing.T) {
	s := &Stack{Dir: t.TempDir()}
	for _, f := range []string{"b-1.metrics.final", "b-1.metrics.10", "b-1.metrics.2", "b-1.metrics.1", "b-10.metrics.1", "b-1.metrics.1.tmp"} {
		if err := os.WriteFile(filepath.Join(s.Dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, p := range s.Scrapes("b-1") {
		got = append(got, filepath.Base(p))
	}
	want := []string{"b-1.metrics.1", "b-1.metrics.2", "b-1.metrics.10", "b-1.metrics.final"}
	if len(got) != len(want) {
		t.Fatalf("scrapes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("scrapes %v, want %v", got, want)
		}
	}
}

func TestHS256(t *testing.T) {
	// The signature was computed apart, with openssl dgst -sha256 -hmac.
	got := HS256("s3cret", map[string]any{"sub": "client-7"})
	want := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjbGllbnQtNyJ9.AVS9GLRDVQ6i0UisJEGAGn6p6MvO0Ev5GbYBXHFLQiQ"
	if got != want {
		t.Errorf("HS256 = %s, want %s", got, want)
	}
}
