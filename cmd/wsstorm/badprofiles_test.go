package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// badProfiles holds one broken profile per NAME.toml, with the lines its
// errors must contain in NAME.want.
const badProfiles = "../../testdata/bad-profiles"

// unsetVariable is the variable testdata/bad-profiles/external-missing-env.toml
// takes; the test needs it unset.
const unsetVariable = "WSSTORM_TEST_NEVER_SET_7C1E"

// checkRejected asserts that a wsstorm command refused a profile as a user
// should see it: exit 2, every wanted line in stderr, no stack trace.
func checkRejected(t *testing.T, args []string, code int, stdout, stderr string, want []string) {
	t.Helper()
	if code != exitUsage {
		t.Errorf("wsstorm %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, exitUsage, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("wsstorm %s: stderr lacks\n  %s\nstderr:\n%s", strings.Join(args, " "), w, stderr)
		}
	}
	for _, out := range []string{stdout, stderr} {
		if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
			t.Errorf("wsstorm %s: stack trace shown:\n%s", strings.Join(args, " "), out)
		}
	}
}

// checkNoResults asserts that a refused run left nothing in its --out
// directory.
func checkNoResults(t *testing.T, out string) {
	t.Helper()
	entries, err := os.ReadDir(out)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("run of a bad profile wrote results: %v", entries)
	}
}

func TestBadProfiles(t *testing.T) {
	if _, set := os.LookupEnv(unsetVariable); set {
		t.Fatalf("%s is set; the bad-profile corpus needs it unset", unsetVariable)
	}
	files, err := filepath.Glob(filepath.Join(badProfiles, "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 45 {
		t.Fatalf("%d bad profiles in %s, want at least 45", len(files), badProfiles)
	}
	wants, err := filepath.Glob(filepath.Join(badProfiles, "*.want"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		if _, err := os.Stat(strings.TrimSuffix(w, ".want") + ".toml"); err != nil {
			t.Errorf("%s has no profile: %v", w, err)
		}
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(strings.TrimSuffix(file, ".toml") + ".want")
			if err != nil {
				t.Fatalf("no expected message: %v", err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if line = strings.TrimRight(line, "\r"); line != "" {
					want = append(want, line)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s.want is empty", name)
			}
			out := filepath.Join(t.TempDir(), "results")
			for _, args := range [][]string{{"validate", file}, {"run", file, "--out", out}} {
				code, stdout, stderr := wsstorm(t, args...)
				checkRejected(t, args, code, stdout, stderr, want)
			}
			checkNoResults(t, out)
		})
	}
}

// errorLine is one profile error as wsstorm prints it: file:line: message.
var errorLine = regexp.MustCompile(`^wsstorm: (\S+\.toml):(\d+): \S`)

// TestBadProfileAllErrors checks that a profile with several problems gets
// every one reported, each with its file and line, in file order.
func TestBadProfileAllErrors(t *testing.T) {
	file := filepath.Join(badProfiles, "many-errors.toml")
	for _, args := range [][]string{{"validate", file}, {"run", file, "--out", filepath.Join(t.TempDir(), "results")}} {
		code, _, stderr := wsstorm(t, args...)
		if code != exitUsage {
			t.Fatalf("wsstorm %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 7 {
			t.Errorf("wsstorm %s: %d errors, want 7:\n%s", strings.Join(args, " "), len(lines), stderr)
		}
		prev := 0
		for _, l := range lines {
			m := errorLine.FindStringSubmatch(l)
			if m == nil || m[1] != file {
				t.Errorf("not file:line: message: %q", l)
				continue
			}
			n, _ := strconv.Atoi(m[2])
			if n < prev {
				t.Errorf("line %d reported after line %d:\n%s", n, prev, stderr)
			}
			prev = n
		}
	}

	// Several files at once: each one's errors, and exit 2 if any is bad.
	good := filepath.Join("..", "..", "profiles", "default.toml")
	a, b := filepath.Join(badProfiles, "clients-zero.toml"), filepath.Join(badProfiles, "code-1006.toml")
	code, stdout, stderr := wsstorm(t, "validate", a, good, b)
	checkRejected(t, nil, code, stdout, stderr, []string{a + ":2: fleet.clients:", b + ":4: chaos.0.code:"})
	if !strings.Contains(stdout, good+": ok") {
		t.Errorf("stdout lacks the good profile's ok:\n%s", stdout)
	}
}

// TestBadProfilePaths covers what cannot be a file in the corpus: a
// directory, a path that does not exist, an unreadable file, a device.
func TestBadProfilePaths(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.toml")
	if err := os.WriteFile(unreadable, []byte("seed = 1\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		skip             string
	}{
		{"directory", dir, dir + ": cannot read the profile: it is a directory; name a profile file in it, e.g. " + filepath.Join(dir, "default.toml"), ""},
		{"missing", filepath.Join(dir, "no-such.toml"), filepath.Join(dir, "no-such.toml") + ": cannot read the profile: no such file or directory", ""},
		{"unreadable", unreadable, unreadable + ": cannot read the profile: permission denied", skipIfRoot()},
		{"device", "/dev/zero", "/dev/zero: cannot read the profile: it is larger than 1 MiB, far more than a profile takes; is this the right file?", skipIfNo("/dev/zero")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			t.Parallel()
			out := filepath.Join(t.TempDir(), "results")
			for _, args := range [][]string{{"validate", tt.path}, {"run", tt.path, "--out", out}} {
				code, stdout, stderr := wsstorm(t, args...)
				checkRejected(t, args, code, stdout, stderr, []string{"wsstorm: " + tt.want + "\n"})
			}
			checkNoResults(t, out)
		})
	}
}

func skipIfRoot() string {
	if os.Geteuid() == 0 {
		return "running as root, which can read a file of mode 000: the unreadable-file case needs another user"
	}
	return ""
}

func skipIfNo(path string) string {
	if _, err := os.Stat(path); err != nil {
		return path + " is not on this system"
	}
	return ""
}

// TestBadProfilesBOMAccepted pins a decision: a UTF-8 byte order mark, as
// some Windows editors write, does not make a profile bad.
func TestBadProfilesBOMAccepted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bom.toml")
	if err := os.WriteFile(path, []byte("\ufeffname = \"bom\"\r\n[fleet]\r\nclients = 10\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := wsstorm(t, "validate", path)
	if code != exitPassed || !strings.Contains(stdout, "profile bom: 10 clients") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
