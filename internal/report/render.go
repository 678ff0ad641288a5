package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wsstorm/wsstorm/internal/results"
)

// ReadError is results that could not be read to be rendered.
type ReadError struct{ Err error }

// Error says which file could not be read, and why.
func (e *ReadError) Error() string { return e.Err.Error() }

// Unwrap returns the results' error.
func (e *ReadError) Unwrap() error { return e.Err }

// format is one way `wsstorm report` renders a run: from its summary, or
// (html) from its whole results directory.
type format struct {
	name    string
	summary func(io.Writer, *results.Summary) error // nil: from the whole directory
	dir     func(io.Writer, *results.ResultSet) error
}

// formats is the static table of `wsstorm report`'s formats, in the order
// its help gives them: a new format is a renderer and one row here.
func formats() []format {
	return []format{
		{name: "text", summary: func(w io.Writer, s *results.Summary) error { return WriteText(w, s, "") }},
		{name: "markdown", summary: WriteMarkdown},
		{name: "json", summary: WriteJSON},
		{name: "html", dir: WriteHTML},
	}
}

// Formats lists the names Render takes.
func Formats() []string {
	var out []string
	for _, f := range formats() {
		out = append(out, f.name)
	}
	return out
}

// Render renders the results directory dir in the format named name, one of
// Formats: "text", "markdown", "json" (summary.json) or "html" (the page
// report.html holds), as `wsstorm report` prints them. dir may name the
// directory's summary.json instead, as it may for compare. An error reading
// the results is a *ReadError.
func Render(dir, name string) ([]byte, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() && filepath.Base(dir) == results.SummaryFile {
		dir = filepath.Dir(dir)
	}
	for _, f := range formats() {
		if f.name != name {
			continue
		}
		var b bytes.Buffer
		if f.dir != nil {
			rs, err := results.ReadResultSet(dir)
			if err != nil {
				return nil, &ReadError{err}
			}
			err = f.dir(&b, rs)
			return b.Bytes(), err
		}
		s, err := results.ReadSummaryDir(dir)
		if err != nil {
			return nil, &ReadError{err}
		}
		err = f.summary(&b, s)
		return b.Bytes(), err
	}
	return nil, fmt.Errorf("no format %q: use one of %v", name, Formats())
}
