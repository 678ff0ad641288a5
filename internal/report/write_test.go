package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
)

// TestWriteFiles checks the files a run's directory holds, and what
// summary.json records of the profile: its identity, seed and clients, and
// its thresholds as judged, written as the profile gives them.
func TestWriteFiles(t *testing.T) {
	dir, data := writeFixture(t, fixtureRun(t))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{results.HistogramsFile, results.ProfileFile, results.HTMLFile, results.SummaryFile, results.TimeseriesFile}; !slices.Equal(names, want) {
		t.Errorf("results directory holds %q, want %q", names, want)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"profile":              map[string]any{"name": "default", "path": "profiles/default.toml", "sha256": "5f1c0e2a9b7d4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a", "overrides": []any{}},
		"insecure_skip_verify": false,
		"seed":                 1.0,
		"clients":              2000.0,
		"passed":               true,
		"thresholds":           []any{map[string]any{"expr": "reconnect.p99 < 5s", "value": 1.5, "unit": "ms", "ok": true}},
	}
	for key, w := range want {
		if !reflect.DeepEqual(got[key], w) {
			t.Errorf("%s\n got %#v\nwant %#v", key, got[key], w)
		}
	}
	if !bytes.Contains(data, []byte(`"expr": "reconnect.p99 < 5s"`)) {
		t.Errorf("threshold expression is escaped or missing:\n%s", data)
	}
}

func TestPassed(t *testing.T) {
	// On an empty run connects is 0 and gave_up is 0.
	ok := map[string]string{"connects": ">= 0", "gave_up": "== 0"}
	oneBad := map[string]string{"connects": ">= 0", "gave_up": "> 0"}
	tests := []struct {
		name        string
		interrupted bool
		thresholds  map[string]string
		want        bool
	}{
		{"no thresholds", false, nil, true},
		{"all ok", false, ok, true},
		{"one failed", false, oneBad, false},
		{"interrupted", true, nil, false},
		{"interrupted, all ok", true, ok, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &testRun{Profile: &profile.Profile{Thresholds: tt.thresholds}, Run: &results.Run{Results: emptyResults(), Interrupted: tt.interrupted}}
			s := summarize(run)
			if s.Passed != tt.want {
				t.Errorf("Passed = %v, want %v (%+v)", s.Passed, tt.want, s.Thresholds)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // where the fallback of a directory that cannot be made goes
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		run  *results.Run
	}{
		{"dir is a file", file, fixtureRun(t).Run},
		{"no results", filepath.Join(root, "x"), &results.Run{}},
		{"nil run", filepath.Join(root, "y"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Write(tt.dir, nil, tt.run); err == nil {
				t.Error("Write succeeded, want an error")
			}
		})
	}
}

// TestWriteReadOnlyDir checks that the summary comes back with the error,
// so the caller can still print it.
func TestWriteReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	t.Setenv("TMPDIR", t.TempDir()) // where the files go instead
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	run := fixtureRun(t)
	s, err := Write(dir, run.Profile, run.Run)
	if err == nil {
		t.Fatal("Write into a read-only directory succeeded")
	}
	if s == nil {
		t.Error("no summary returned with the error")
	}
}

// TestWriteExtrasFailure checks that when report.html cannot be written,
// the contract files still are, and the error says only the extras failed.
func TestWriteExtrasFailure(t *testing.T) {
	dir := t.TempDir()
	// A directory where report.html should go: the rename over it fails.
	if err := os.MkdirAll(filepath.Join(dir, results.HTMLFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := fixtureRun(t)
	_, err := Write(dir, run.Profile, run.Run)
	var extras *results.ExtrasError
	if !errors.As(err, &extras) || !strings.Contains(err.Error(), results.HTMLFile) {
		t.Fatalf("Write = %v, want an ExtrasError naming %s", err, results.HTMLFile)
	}
	if _, err := results.ReadSummary(dir); err != nil {
		t.Errorf("summary.json not written: %v", err)
	}
	for _, name := range []string{results.HistogramsFile, results.TimeseriesFile, results.ProfileFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}
