package report

import (
	"fmt"
	"html/template"
)

// ChartLibrary returns the charting library report.html inlines (uPlot's
// styles, and its code with its licence in a leading comment), so other
// self-contained pages (wsstorm sweep's) draw charts the same way without a
// copy of their own.
func ChartLibrary() (template.CSS, template.JS, error) {
	css, err := assets.ReadFile("assets/uplot/uPlot.min.css")
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	js, err := assets.ReadFile("assets/uplot/uPlot.iife.min.js")
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	license, err := assets.ReadFile("assets/uplot/LICENSE")
	if err != nil {
		return "", "", fmt.Errorf("report: %w", err)
	}
	// Our own files, embedded at build time: trusted as CSS and JS.
	return template.CSS(css), template.JS("/*! uPlot 1.6.32, https://github.com/leeoniya/uPlot, under its licence:\n\n" + string(license) + "*/\n" + string(js)), nil
}
