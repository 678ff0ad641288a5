package report

import (
	"bytes"
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

// Render renders the results directory dir in format, "text", "markdown",
// "json" (summary.json) or "html" (the page report.html holds), as `wsstorm
// report` prints them. dir may name the directory's summary.json instead,
// as it may for compare. An error reading the results is a *ReadError.
func Render(dir, format string) ([]byte, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() && filepath.Base(dir) == results.SummaryFile {
		dir = filepath.Dir(dir)
	}
	var b bytes.Buffer
	if format == "html" {
		rs, err := results.ReadResultSet(dir)
		if err != nil {
			return nil, &ReadError{err}
		}
		if err := WriteHTML(&b, rs); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	s, err := results.ReadSummaryDir(dir)
	if err != nil {
		return nil, &ReadError{err}
	}
	switch format {
	case "markdown":
		err = WriteMarkdown(&b, s)
	case "json":
		err = WriteJSON(&b, s)
	default:
		err = WriteText(&b, s, "")
	}
	return b.Bytes(), err
}
