package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNewDir: without a directory a run gets a new one under root, a
// second run in the same second another; one that cannot be written is
// named in the error's return.
func TestNewDir(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first, err := NewDir("", root, "p", at)
	if err != nil || first != filepath.Join(root, "p", "20260102T030405Z") {
		t.Fatalf("first: %s, %v", first, err)
	}
	second, err := NewDir("", root, "p", at)
	if err != nil || second != first+"-2" {
		t.Fatalf("second: %s, %v", second, err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir, err := NewDir(filepath.Join(file, "sub"), root, "p", at); err == nil || dir != filepath.Join(file, "sub") {
		t.Errorf("under a file: %s, %v", dir, err)
	}
}

// TestUnreachable: only a run whose every attempt failed says so, with the
// reasons most first, and a hint for a script that never got its message
// and for a machine that could not dial.
func TestUnreachable(t *testing.T) {
	s := &Summary{Counters: CounterSummary{ConnectAttempts: 63, ConnectFailures: map[string]int64{"timeout": 3, "refused": 60}}}
	got := s.Unreachable()
	if !strings.Contains(got, "in 63 attempts (refused=60, timeout=3): is it running") {
		t.Errorf("unreachable: %q", got)
	}
	s.Counters.ConnectFailures = map[string]int64{"script_timeout": 63}
	if got := s.Unreachable(); !strings.Contains(got, "the session script's awaited message never came") {
		t.Errorf("script timeouts: %q", got)
	}
	s.Counters.ConnectFailures = map[string]int64{"no_source_port": 63}
	if got := s.Unreachable(); !strings.Contains(got, "(no_source_port=63): this machine, not the target, failed every attempt: no local port was free: add source addresses with fleet.source_addrs") {
		t.Errorf("no source port: %q", got)
	}
	s.Interrupted = true
	if got := s.Unreachable(); got != "" {
		t.Errorf("interrupted run: %q", got)
	}
	if got := (&Summary{Counters: CounterSummary{ConnectAttempts: 5, Connects: 1}}).Unreachable(); got != "" {
		t.Errorf("a run with a connect: %q", got)
	}
}
