package results

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// NewDir returns the directory a run's results go to: dir, or, when dir is
// "", a new one under root named for the run (name) and its start
// (DefaultDir; with -2, -3, ... when runs started in the same second took
// it). It creates the directory and checks that a file can be written in
// it, so that a run finds out before it starts, not after; on error it
// still returns the directory it tried.
func NewDir(dir, root, name string, started time.Time) (string, error) {
	if dir == "" {
		dir = uniqueDir(DefaultDir(root, name, started))
	}
	return dir, CheckWritable(dir)
}

// CheckWritable creates dir if needed and checks that a file can be
// written in it.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".wsstorm-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// uniqueDir returns dir, or dir-2, dir-3, ... when runs started in the same
// second already use it.
func uniqueDir(dir string) string {
	candidate := dir
	for i := 2; ; i++ {
		if _, err := os.Stat(candidate); errors.Is(err, fs.ErrNotExist) {
			return candidate
		}
		candidate = fmt.Sprintf("%s-%d", dir, i)
	}
}

// Unreachable says, for a run in which no client ever connected though
// they tried, that the target was out of reach and what to check; "" for
// any other run (an interrupted one included).
func (s *Summary) Unreachable() string {
	c := s.Counters
	if s.Interrupted || c.Connects > 0 || c.ConnectAttempts == 0 {
		return ""
	}
	hint := "is it running, and reachable at its URL?"
	if n := c.ConnectFailures[stats.ScriptTimeout.String()]; n > 0 && n == c.ConnectAttempts {
		hint = "every handshake succeeded, but the session script's awaited message never came: check each step's expect against what the server sends"
	}
	for reason, n := range c.ConnectFailures {
		if h := FailureHint(reason); h != "" && n == c.ConnectAttempts {
			hint = "this machine, not the target, failed every attempt: " + h
		}
	}
	return fmt.Sprintf("no client could connect to the target in %d attempts (%s): %s", c.ConnectAttempts, failureList(c.ConnectFailures), hint)
}

// failureList writes failure counts as "refused=60, timeout=3", most first.
func failureList(failures map[string]int64) string {
	reasons := slices.Collect(maps.Keys(failures))
	slices.SortFunc(reasons, func(a, b string) int {
		return cmp.Or(cmp.Compare(failures[b], failures[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s=%d", r, failures[r])
	}
	return strings.Join(parts, ", ")
}
