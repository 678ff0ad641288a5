package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/report"
	"github.com/wsstorm/wsstorm/internal/results"
)

func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", "wsstorm report DIR [--format text|markdown|json|html] [--output FILE]", stderr)
	format := fs.String("format", "text", "output: text, markdown (for a pull-request comment), json (summary.json) or html (the page report.html holds)")
	output := fs.String("output", "", "write to `FILE` (replaced whole) instead of standard output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "wsstorm report: name one results directory (written by wsstorm run), got %d arguments\n", len(pos))
		return exitUsage
	}
	if !slices.Contains([]string{"text", "markdown", "json", "html"}, *format) {
		fmt.Fprintf(stderr, "wsstorm report: --format %q: use text, markdown, json or html\n", *format)
		return exitUsage
	}
	dir := pos[0]
	// The summary.json of a results directory names the directory, as it
	// does for compare.
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() && filepath.Base(dir) == results.SummaryFile {
		dir = filepath.Dir(dir)
	}

	var b bytes.Buffer
	if *format == "html" {
		rs, err := results.ReadResultSet(dir)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm report: %v\n", trimPrefix(err))
			return exitUsage
		}
		err = report.WriteHTML(&b, rs)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm report: %v\n", trimPrefix(err))
			return exitCannotRun
		}
	} else {
		s, err := results.ReadSummaryDir(dir)
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm report: %v\n", trimPrefix(err))
			return exitUsage
		}
		switch *format {
		case "markdown":
			err = report.WriteMarkdown(&b, s)
		case "json":
			err = report.WriteJSON(&b, s)
		default:
			err = report.WriteText(&b, s, "")
		}
		if err != nil {
			fmt.Fprintf(stderr, "wsstorm report: %v\n", err)
			return exitCannotRun
		}
	}

	if *output == "" {
		if _, err := stdout.Write(b.Bytes()); err != nil {
			fmt.Fprintf(stderr, "wsstorm report: %v\n", err)
			return exitCannotRun
		}
		return exitPassed
	}
	if err := results.WriteFile(*output, func(w io.Writer) error { _, err := w.Write(b.Bytes()); return err }); err != nil {
		fmt.Fprintf(stderr, "wsstorm report: cannot %v\n", trimPrefix(err))
		return exitCannotRun
	}
	return exitPassed
}

// trimPrefix drops the prefix "report: " of a report or results error: the
// command names itself.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "report: ")
}
