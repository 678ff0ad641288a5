package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionLine: the version, and the commit Go recorded, as
// `wsstorm version` prints them for each way a binary is built.
func TestVersionLine(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	build := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		bi := &debug.BuildInfo{Settings: settings}
		bi.Main.Version = version
		return bi
	}
	for _, tc := range []struct {
		name string
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", "", nil, "wsstorm devel (go1.26.0, linux/amd64)"},
		{"go test", "", build("(devel)", nil), "wsstorm devel (go1.26.0, linux/amd64)"},
		{"go install @v0.1.0", "", build("v0.1.0", nil), "wsstorm v0.1.0 (go1.26.0, linux/amd64)"},
		{"go build in a clean clone", "", build("(devel)", vcs("false")),
			"wsstorm devel (commit 0123456789ab 2026-01-02T03:04:05Z, go1.26.0, linux/amd64)"},
		{"go build in a modified clone", "", build("v0.1.1-0.20260102030405-0123456789ab+dirty", vcs("true")),
			"wsstorm v0.1.1-0.20260102030405-0123456789ab+dirty (commit 0123456789ab+dirty 2026-01-02T03:04:05Z, go1.26.0, linux/amd64)"},
		{"-ldflags -X main.version wins", "v1.2.3", build("v0.1.0", vcs("false")),
			"wsstorm v1.2.3 (commit 0123456789ab 2026-01-02T03:04:05Z, go1.26.0, linux/amd64)"},
		{"no vcs.time", "v1.2.3", build("", vcs("true")[:3]),
			"wsstorm v1.2.3 (commit 0123456789ab, go1.26.0, linux/amd64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.set, tc.bi, "go1.26.0", "linux/amd64"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestProtocolsCmd: wsstorm protocols lists every preset with its options
// and defaults on stdout; an unknown name is a usage error.
func TestProtocolsCmd(t *testing.T) {
	code, stdout, stderr := wsstorm(t, "protocols")
	if code != exitPassed || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"socket.io\n", "read from: socket.io-client 4.8.4", "[fleet.protocol_options]", `namespace = "/"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, _, stderr = wsstorm(t, "protocols", "socketio")
	if code != exitUsage || !strings.Contains(stderr, `"socketio" is not a protocol preset`) {
		t.Errorf("unknown preset: exit %d, stderr %q", code, stderr)
	}
}
