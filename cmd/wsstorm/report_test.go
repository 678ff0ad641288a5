package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// short is a run of a few seconds with one restart and one close, enough to
// give every results file something to hold.
var short = []string{
	"--set", "duration=3s", "--set", "fleet.clients=60", "--set", "fleet.ramp=300ms",
	"--set", "fleet.reconnect.min=100ms", "--set", "fleet.reconnect.max=300ms",
	"--set", "chaos.0.at=1s", "--set", "chaos.0.nodes=[0]", "--set", "chaos.0.downtime=300ms",
	"--set", "chaos.1.at=2500ms",
}

// runShort runs the short storm into a fresh directory and returns it with
// what the run printed.
func runShort(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := wsstorm(t, append([]string{"run", "--out", dir}, short...)...)
	if code != exitPassed {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	return dir, stdout
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportFormats(t *testing.T) {
	dir, runOut := runShort(t)
	out := filepath.Join(t.TempDir(), "page.html")
	tests := []struct {
		name string
		args []string
		want string // stdout
		file string // --output's content, when given
	}{
		{"json is summary.json", []string{"report", "--format", "json", dir}, readFile(t, filepath.Join(dir, results.SummaryFile)), ""},
		{"html is report.html", []string{"report", dir, "--format", "html"}, readFile(t, filepath.Join(dir, results.HTMLFile)), ""},
		{"summary.json names its directory", []string{"report", filepath.Join(dir, results.SummaryFile), "--format=html", "--output", out}, "",
			readFile(t, filepath.Join(dir, results.HTMLFile))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := wsstorm(t, tt.args...)
			if code != exitPassed || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if stdout != tt.want {
				t.Errorf("stdout differs:\n got %.300q\nwant %.300q", stdout, tt.want)
			}
			if tt.file != "" && readFile(t, out) != tt.file {
				t.Errorf("--output wrote something else than %s", results.HTMLFile)
			}
		})
	}

	// The text is the summary the run printed, without where the results are.
	code, text, stderr := wsstorm(t, "report", dir)
	if code != exitPassed || !strings.HasPrefix(text, "wsstorm: profile default") || !strings.Contains(runOut, text+"results: "+dir+"\n") {
		t.Errorf("text: exit %d, stdout:\n%s\nthe run printed:\n%s\n%s", code, text, runOut, stderr)
	}

	code, md, stderr := wsstorm(t, "report", dir, "--format", "markdown")
	if code != exitPassed {
		t.Fatalf("markdown: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"### wsstorm: default — passed\n", "| reconnect |", "#### Chaos events", "| rolling_restart node 0 |", "#### Thresholds"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestReportErrors checks that each problem with the arguments or the
// results directory is one line on stderr naming what is wrong, with the
// exit code of the contract: 2 for what the user named, 3 for an output that
// cannot be written.
func TestReportErrors(t *testing.T) {
	good, _ := runShort(t)
	// damaged copies the good directory and changes one file.
	damaged := func(name string, change func(string) string) string {
		dir := filepath.Join(t.TempDir(), "damaged")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(good)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data := readFile(t, filepath.Join(good, e.Name()))
			if e.Name() == name {
				data = change(data)
			}
			if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	half := func(s string) string { return s[:len(s)/2] }
	// midRow cuts a CSV after the first field of a row in its middle: a
	// cut that lands on a line's end would leave a shorter file, not a
	// damaged one.
	midRow := func(s string) string {
		i := strings.IndexByte(s[len(s)/2:], '\n') + len(s)/2 + 1
		j := strings.IndexByte(s[i:], ',')
		return s[:i+j+1] + "\n"
	}
	noDir := filepath.Join(t.TempDir(), "nope")
	empty := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no directory", []string{"report"}, exitUsage, []string{"name one results directory"}},
		{"two directories", []string{"report", good, good}, exitUsage, []string{"got 2"}},
		{"unknown format", []string{"report", good, "--format", "pdf"}, exitUsage, []string{`--format "pdf"`, "text, markdown, json or html"}},
		{"missing directory", []string{"report", noDir}, exitUsage, []string{noDir + ": no such file or directory", "name a results directory"}},
		{"not a results directory", []string{"report", empty}, exitUsage, []string{empty, "no summary.json"}},
		{"malformed summary", []string{"report", damaged(results.SummaryFile, half)}, exitUsage, []string{results.SummaryFile + ":"}},
		{"malformed summary, html", []string{"report", damaged(results.SummaryFile, half), "--format", "html"}, exitUsage, []string{results.SummaryFile + ":"}},
		{"truncated time series", []string{"report", damaged(results.TimeseriesFile, midRow), "--format", "html"}, exitUsage,
			[]string{results.TimeseriesFile + ":", "wrong number of fields", "--format text"}},
		{"time series not numbers", []string{"report", damaged(results.TimeseriesFile, func(s string) string {
			header, rest, _ := strings.Cut(s, "\n")
			t, rest, _ := strings.Cut(rest, ",")
			_, rest, _ = strings.Cut(rest, ",")
			return header + "\n" + t + ",lots," + rest
		}), "--format", "html"}, exitUsage,
			[]string{results.TimeseriesFile + ":2:", `connected: "lots" is not a number`}},
		{"truncated histograms", []string{"report", damaged(results.HistogramsFile, half), "--format", "html"}, exitUsage,
			[]string{results.HistogramsFile + ":", "damaged"}},
		{"garbage histograms", []string{"report", damaged(results.HistogramsFile, func(string) string { return "Tag=connect,0,1,2,HISTFAAAA\x00\xff\n" }), "--format", "html"}, exitUsage,
			[]string{results.HistogramsFile + ":"}},
		{"output in a missing directory", []string{"report", good, "--output", filepath.Join(noDir, "r.txt")}, exitCannotRun,
			[]string{"cannot write " + filepath.Join(noDir, "r.txt"), "no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := wsstorm(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout holds %.200q", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") || !strings.HasPrefix(stderr, "wsstorm report: ") {
				t.Errorf("stderr is not one line from wsstorm report:\n%s", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestReportOutputReplacesWhole checks that --output leaves no temporary
// file and replaces what was there.
func TestReportOutputReplacesWhole(t *testing.T) {
	dir, _ := runShort(t)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "summary.md")
	if err := os.WriteFile(out, bytes.Repeat([]byte("STALE "), 10_000), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := wsstorm(t, "report", dir, "--format", "markdown", "--output", out); code != exitPassed {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if got := readFile(t, out); !strings.HasPrefix(got, "### wsstorm: default") || strings.Contains(got, "STALE") {
		t.Errorf("--output holds %.200q", got)
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 1 {
		t.Errorf("the output directory holds %d files, want only summary.md", len(entries))
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode().Perm(), err)
	}
}
