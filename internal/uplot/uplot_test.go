package uplot

import (
	"strings"
	"testing"
)

// TestLibrary checks that the code carries its licence ahead of it and that
// the styles are uPlot's.
func TestLibrary(t *testing.T) {
	css, js, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	code := string(js)
	if !strings.HasPrefix(code, "/*! uPlot 1.6.32") || !strings.Contains(code, "Permission is hereby granted") {
		t.Errorf("the code does not start with uPlot's licence: %.200s", code)
	}
	if !strings.Contains(code[strings.Index(code, "*/"):], "uPlot") {
		t.Error("no code after the licence")
	}
	if !strings.Contains(string(css), ".uplot") {
		t.Error("the styles are not uPlot's")
	}
}
