package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSplitRefusals: combinations that cannot work are refused before
// anything starts.
func TestSplitRefusals(t *testing.T) {
	dir := t.TempDir()
	observe := filepath.Join(dir, "observe.toml")
	if err := os.WriteFile(observe, []byte("name = \"o\"\n[target]\nmode = \"external\"\nurl = \"ws://127.0.0.1:9/\"\n[detect]\nenabled = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	proxied := filepath.Join(dir, "proxy.toml")
	if err := os.WriteFile(proxied, []byte("name = \"p\"\n[target]\nmode = \"proxy\"\nurl = \"ws://127.0.0.1:9/\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	external := filepath.Join(dir, "external.toml")
	if err := os.WriteFile(external, []byte("name = \"e\"\n[target]\nmode = \"external\"\nurl = \"ws://127.0.0.1:9/\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--processes", "2", observe}, "observe mode"},
		{[]string{"--segment", "0/2", observe}, "observe mode"},
		{[]string{"--processes", "2", proxied}, "proxy mode runs the chaos proxy inside the process"},
		{[]string{"--segment", "1/2", "--start-at", "2001-01-01T00:00:00Z", proxied}, "proxy mode"},
		{[]string{"--segment", "1/2", "--start-at", "2001-01-01T00:00:00Z", external}, "would already be over"},
		{[]string{"--processes", "2", "--metrics-addr", "127.0.0.1:0"}, "--metrics-addr is not available with --processes"},
		{[]string{"--segment", "1/2"}, "must share one target"},
		{[]string{"--processes", "2", "--segment", "0/2"}, "leave out --segment"},
		{[]string{"--processes", "3", "--set", "fleet.clients=2"}, "more than the profile's 2 clients"},
	} {
		code, _, stderr := wsstorm(t, append([]string{"run", "--out", filepath.Join(dir, "out")}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, stderr, tc.want)
		}
	}
}
