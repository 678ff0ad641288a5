package results

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FallbackError says that files of a run's results could not be written to
// their directory, and where each went instead: a new directory under
// os.TempDir() named wsstorm-<profile>-<start>-*, made only when needed.
type FallbackError struct {
	Dir string // the results directory
	// Fallback is the directory the files went to instead; "" when none
	// could be made.
	Fallback string
	Files    []Unwritten // in the order Write writes them, summary.json last
	// Err is an error besides the files', if any (a stale segment.json
	// that could not be removed).
	Err error
}

// Unwritten is a file that could not be written to the results directory.
type Unwritten struct {
	Name string // e.g. "summary.json"
	Err  error  // why it could not be written to the results directory
	// Instead is where it was written instead; "" when it could not be
	// written there either, and Err then says both.
	Instead string
}

// Error says, a line per file, where each went and why, as "wrote
// summary.json to /tmp/wsstorm-default-20261207T012935Z-1234/summary.json
// instead: write out/summary.json: no space left on device".
func (e *FallbackError) Error() string {
	var lines []string
	for _, f := range e.Files {
		if f.Instead != "" {
			lines = append(lines, fmt.Sprintf("wrote %s to %s instead: %v", f.Name, f.Instead, f.Err))
		} else {
			lines = append(lines, f.Err.Error())
		}
	}
	if e.Err != nil {
		lines = append(lines, e.Err.Error())
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors of the files and the other one.
func (e *FallbackError) Unwrap() []error {
	errs := make([]error, 0, len(e.Files)+1)
	for _, f := range e.Files {
		errs = append(errs, f.Err)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Lost reports whether a file could be written nowhere.
func (e *FallbackError) Lost() bool {
	for _, f := range e.Files {
		if f.Instead == "" {
			return true
		}
	}
	return false
}

// fallBack writes the files lost, which could not go to dir for reason(name),
// to a new fallback directory, and returns the *FallbackError that says
// where they are; other is an error besides theirs, or nil.
func (d disk) fallBack(dir string, s *Summary, lost []file, reason func(name string) error, other error) error {
	e := &FallbackError{Dir: dir, Err: other}
	pattern := fmt.Sprintf("wsstorm-%s-%s-*", dirName(s.Profile.Name), s.StartedAt.UTC().Format("20060102T150405Z"))
	fallback, mkErr := os.MkdirTemp("", pattern)
	if mkErr == nil {
		e.Fallback = fallback
		// MkdirTemp makes the directory private (0700); results are meant to be shared.
		_ = os.Chmod(fallback, 0o755)
	}
	for _, f := range lost {
		u := Unwritten{Name: f.name, Err: reason(f.name)}
		switch {
		case mkErr != nil:
			u.Err = fmt.Errorf("%w; and no fallback directory: %v", u.Err, mkErr)
		default:
			if err := d.writeAtomic(fallback, f.name, f.write); err != nil {
				u.Err = fmt.Errorf("%w; and not to the fallback either: %v", u.Err, err)
			} else {
				u.Instead = filepath.Join(fallback, f.name)
			}
		}
		e.Files = append(e.Files, u)
	}
	if e.Fallback != "" {
		syncDir(e.Fallback)
		if e.Lost() && os.Remove(e.Fallback) == nil { // only if empty
			e.Fallback = ""
		}
	}
	return e
}
