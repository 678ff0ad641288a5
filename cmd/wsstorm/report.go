package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
)

// reportCmd renders a run's results in one of the report formats.
func reportCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "wsstorm report DIR [--format text|markdown|json|html] [--output FILE]", stderr)
	format := fs.String("format", "text", "output: text, markdown (for a pull-request comment), json (summary.json) or html (the page report.html holds)")
	output := fs.String("output", "", "write to `FILE` (replaced whole) instead of standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("wsstorm report: name one results directory (written by wsstorm run), got %d arguments", len(pos))
	}
	if !slices.Contains([]string{"text", "markdown", "json", "html"}, *format) {
		return usagef("wsstorm report: --format %q: use text, markdown, json or html", *format)
	}
	dir := pos[0]
	// The summary.json of a results directory names the directory, as it
	// does for compare.
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() && filepath.Base(dir) == results.SummaryFile {
		dir = filepath.Dir(dir)
	}
	b, err := render(dir, *format)
	if err != nil {
		return err
	}
	if *output == "" {
		if _, err := stdout.Write(b); err != nil {
			return cannotRunf("wsstorm report: %v", err)
		}
		return nil
	}
	if err := results.WriteFile(*output, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return cannotRunf("wsstorm report: cannot %v", trimPrefix(err))
	}
	return nil
}

// render renders the results in dir in format: results that cannot be read
// are bad usage, a page that cannot be rendered a run that failed.
func render(dir, format string) ([]byte, error) {
	var b bytes.Buffer
	if format == "html" {
		rs, err := results.ReadResultSet(dir)
		if err != nil {
			return nil, usagef("wsstorm report: %v", trimPrefix(err))
		}
		if err := report.WriteHTML(&b, rs); err != nil {
			return nil, cannotRunf("wsstorm report: %v", trimPrefix(err))
		}
		return b.Bytes(), nil
	}
	s, err := results.ReadSummaryDir(dir)
	if err != nil {
		return nil, usagef("wsstorm report: %v", trimPrefix(err))
	}
	switch format {
	case "markdown":
		err = report.WriteMarkdown(&b, s)
	case "json":
		err = report.WriteJSON(&b, s)
	default:
		err = report.WriteText(&b, s, "")
	}
	if err != nil {
		return nil, cannotRunf("wsstorm report: %v", err)
	}
	return b.Bytes(), nil
}

// trimPrefix drops the prefix "report: " of a report or results error: the
// command names itself.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "report: ")
}
