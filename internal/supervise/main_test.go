package supervise

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Exit codes of wsstorm that the tests expect (exitPassed is the package's).
const (
	exitCannotRun   = 3
	exitInterrupted = 130
)

// moduleRoot is the repository, from this package's directory.
const moduleRoot = "../.."

// buildDir holds the wsstorm program the tests build; TestMain removes it.
var buildDir string

// TestMain makes the directory the wsstorm program is built into, and
// removes it after the tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsstorm-supervise-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// program builds cmd/wsstorm once: the supervisor starts the program it is
// part of as its processes, so its tests run the real one, `wsstorm run
// --processes` included, where signals and exit codes are real. It builds
// with the race detector when the tests have it.
var program = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(buildDir, "wsstorm")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, "github.com/wsstorm/wsstorm/cmd/wsstorm")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, statSources()
})

// statSources looks at every Go file the program is built from, and at
// the profile the tests run: go test caches a result by the files a test
// opened itself, and the build above read them in another process.
func statSources() error {
	if _, err := os.Stat(filepath.Join(moduleRoot, "profiles", "ci-gate.toml")); err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(moduleRoot, f)); err != nil {
			return err
		}
	}
	for _, dir := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(moduleRoot, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			_, err = os.Stat(path)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// wsstormProgram is the path of the built program.
func wsstormProgram(t *testing.T) string {
	t.Helper()
	bin, err := program()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// wsstorm runs the program with args and returns its exit code and output.
func wsstorm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(wsstormProgram(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// syncBuffer is a bytes.Buffer a child process writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
