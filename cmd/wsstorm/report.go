package main

import (
	"context"
	"errors"
	"io"
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
	switch {
	case err != nil:
		return err
	case len(pos) != 1:
		return usagef("wsstorm report: name one results directory (written by wsstorm run), got %d arguments", len(pos))
	case !slices.Contains(report.Formats(), *format):
		return usagef("wsstorm report: --format %q: use text, markdown, json or html", *format)
	}
	b, err := report.Render(pos[0], *format)
	var unread *report.ReadError
	switch {
	case errors.As(err, &unread):
		return usagef("wsstorm report: %v", trimPrefix(err))
	case err != nil:
		return cannotRunf("wsstorm report: %v", trimPrefix(err))
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

// trimPrefix drops the prefix "report: " of a report or results error: the
// command names itself.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "report: ")
}
