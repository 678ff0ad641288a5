// Package uplot holds the uPlot charting library, vendored (README.md says
// which version and how to update it), for the self-contained HTML pages
// wsstorm writes: report.html and a sweep's sweep.html inline it, so they
// draw their charts offline.
package uplot

import (
	"embed"
	"fmt"
	"html/template"
)

//go:embed uPlot.iife.min.js uPlot.min.css LICENSE
var files embed.FS

// Library returns uPlot's styles, and its code with its MIT licence in a
// leading comment, ready to inline into a page.
func Library() (template.CSS, template.JS, error) {
	css, err := files.ReadFile("uPlot.min.css")
	if err != nil {
		return "", "", fmt.Errorf("uplot: %w", err)
	}
	js, err := files.ReadFile("uPlot.iife.min.js")
	if err != nil {
		return "", "", fmt.Errorf("uplot: %w", err)
	}
	license, err := files.ReadFile("LICENSE")
	if err != nil {
		return "", "", fmt.Errorf("uplot: %w", err)
	}
	// Our own files, embedded at build time: trusted as CSS and JS. The
	// licence travels with the code in a comment a template cannot strip
	// (html/template drops the comments of the template itself).
	return template.CSS(css), template.JS("/*! uPlot 1.6.32, https://github.com/leeoniya/uPlot, under its licence:\n\n" + string(license) + "*/\n" + string(js)), nil
}
