package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corrupt writes the fixture's results and then changes one file.
func corrupt(t *testing.T, name string, change func(data []byte) []byte) string {
	t.Helper()
	dir, _ := writeFixture(t, fixtureRun(t))
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = change(data)
	if data == nil {
		err = os.Remove(path)
	} else {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func replace(old, new string) func([]byte) []byte {
	return func(b []byte) []byte { return []byte(strings.Replace(string(b), old, new, 1)) }
}

func truncate(keep float64) func([]byte) []byte {
	return func(b []byte) []byte { return b[:int(float64(len(b))*keep)] }
}

// TestReadResultSetErrors checks that a damaged or incomplete results
// directory gives one error that names the file at fault and says what to
// do, and never a panic.
func TestReadResultSetErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want []string // in the message, besides the file's name
	}{
		{"missing dir", filepath.Join(t.TempDir(), "nope"), []string{"nope: no such file or directory", "name a results directory"}},
		{"a file", file, []string{"not a directory"}},
		{"no summary", corrupt(t, SummaryFile, func([]byte) []byte { return nil }), []string{"not a wsstorm results directory", "no summary.json"}},
		{"summary not JSON", corrupt(t, SummaryFile, truncate(0.5)), []string{SummaryFile + ": unexpected end of JSON"}},
		{"summary of another schema", corrupt(t, SummaryFile, replace(SummarySchema, "wsstorm.summary/v9")), []string{SummaryFile + ": schema"}},
		{"no time series", corrupt(t, TimeseriesFile, func([]byte) []byte { return nil }), []string{TimeseriesFile + ": no such file", "--format text"}},
		{"empty time series", corrupt(t, TimeseriesFile, func([]byte) []byte { return []byte{} }), []string{TimeseriesFile + ": the file is empty"}},
		{"time series cut in a row", corrupt(t, TimeseriesFile, func(b []byte) []byte { return b[:len(b)-5] }), []string{TimeseriesFile + ":4: wrong number of fields", "damaged"}},
		{"time series with a word", corrupt(t, TimeseriesFile, replace("0.1,81", "0.1,lots")), []string{TimeseriesFile + ":3: connected: \"lots\" is not a number"}},
		{"time series not ours", corrupt(t, TimeseriesFile, replace("t_s", "time")), []string{TimeseriesFile + ":1: the header starts with \"time\""}},
		{"time series bad quote", corrupt(t, TimeseriesFile, replace("0.1,81", `0.1,"81`)), []string{TimeseriesFile + ":3"}},
		{"no histograms", corrupt(t, HistogramsFile, func([]byte) []byte { return nil }), []string{HistogramsFile + ": no such file"}},
		{"empty histograms", corrupt(t, HistogramsFile, func([]byte) []byte { return []byte{} }), []string{HistogramsFile + ": no histogram in the file"}},
		{"histograms cut", corrupt(t, HistogramsFile, truncate(0.6)), []string{HistogramsFile + ": cannot decode a histogram"}},
		{"histogram payload damaged", corrupt(t, HistogramsFile, replace(",HISTF", ",HIST!")), []string{HistogramsFile + ": cannot decode a histogram"}},
		{"histogram line damaged", corrupt(t, HistogramsFile, replace("Tag=recovery,", "Tag=recovery;")), []string{HistogramsFile + ": no interval tagged recovery"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadResultSet(tt.dir)
			if err == nil {
				t.Fatal("read without an error")
			}
			msg := err.Error()
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("the error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) && !errors.Is(err, ErrNotResults) {
				t.Errorf("error %T is neither a *FileError nor ErrNotResults", err)
			}
		})
	}
}

// TestReadResultSetTruncatedAnywhere cuts each results file at many points:
// reading must fail or succeed, never panic.
func TestReadResultSetTruncatedAnywhere(t *testing.T) {
	for _, name := range []string{TimeseriesFile, HistogramsFile} {
		dir, _ := writeFixture(t, fixtureRun(t))
		path := filepath.Join(dir, name)
		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(whole)/31)
		for n := 0; n < len(whole); n += step {
			if err := os.WriteFile(path, whole[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			// An error or a result set; a panic fails the test.
			_, _ = ReadResultSet(dir)
		}
	}
}

// TestReadResultSetWithoutDialLag reads the histograms.hlog of a run
// before dial_lag existed: it has no interval of that tag, and is whole.
func TestReadResultSetWithoutDialLag(t *testing.T) {
	dir := corrupt(t, HistogramsFile, func(b []byte) []byte {
		var keep []string
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if !strings.Contains(line, "dial_lag,") {
				keep = append(keep, line)
			}
		}
		return []byte(strings.Join(keep, ""))
	})
	rs, err := ReadResultSet(dir)
	if err != nil {
		t.Fatalf("an older log without dial_lag: %v", err)
	}
	if rs.Histogram("dial_lag") != nil || rs.Histogram(EventTag(0)) == nil {
		t.Errorf("dial_lag %v, event 0 %v; want none and the event's", rs.Histogram("dial_lag"), rs.Histogram(EventTag(0)))
	}
}

func TestReadSummaryDir(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	s, err := ReadSummaryDir(dir)
	if err != nil || s.Counters.Connects != 2687 {
		t.Fatalf("ReadSummaryDir = %v, %v", s, err)
	}
	if _, err := ReadSummaryDir(t.TempDir()); !errors.Is(err, ErrNotResults) {
		t.Errorf("a directory without summary.json: %v, want ErrNotResults", err)
	}
}
