package results

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteReplacesAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b") // parents are created
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := fixtureRun(t)
	if _, err := run.write(dir); err != nil {
		t.Fatal(err)
	}
	want := []string{HistogramsFile, ProfileFile, HTMLFile, SummaryFile, TimeseriesFile}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("results directory holds %q, want %q (no temporary files)", got, want)
	}
	s, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatalf("old summary not replaced: %v", err)
	}
	if s.Counters.Connects != 2687 {
		t.Errorf("connects = %d, want 2687", s.Counters.Connects)
	}
	for _, name := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o644 {
			t.Errorf("%s mode %v, want 0644", name, perm)
		}
	}

	// A second write of a different run replaces every file.
	run.Results.Counters.Connects = 1
	if _, err := run.write(dir); err != nil {
		t.Fatal(err)
	}
	if s, err = ReadSummary(dir); err != nil || s.Counters.Connects != 1 {
		t.Errorf("after rewrite: connects %v, err %v", s, err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("after rewrite the directory holds %q", got)
	}
}

func TestWriteErrors(t *testing.T) {
	tempRoot(t) // for the fallback of the directories that cannot be made
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		run  *Run
	}{
		{"parent is a file", filepath.Join(file, "results"), fixtureRun(t).Run},
		{"dir is a file", file, fixtureRun(t).Run},
		{"no results", filepath.Join(root, "x"), &Run{}},
		{"nil run", filepath.Join(root, "y"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Write(tt.dir, tt.run, BuildSummary(tt.run, nil), Extras{}); err == nil {
				t.Error("Write succeeded, want an error")
			}
		})
	}
}

func TestWriteReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	tempRoot(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if _, err := fixtureRun(t).write(dir); err == nil {
		t.Fatal("Write into a read-only directory succeeded")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("left %q behind", names)
	}
}

// TestWriteAtomicFailure checks that a failed write leaves neither a
// temporary file nor a changed target.
func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeAtomic(dir, "f", func(w io.Writer) error {
		w.Write([]byte("partial"))
		return os.ErrClosed
	})
	if err == nil {
		t.Fatal("writeAtomic succeeded")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"f"}) {
		t.Errorf("directory holds %q, want only f", names)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("f = %q, want old", data)
	}
}

func TestReadSummaryRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  *testRun
	}{
		{"fixture", fixtureRun(t)},
		{"empty interrupted", bare(&Run{Results: emptyResults(), Interrupted: true})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			written, err := tt.run.write(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{dir, filepath.Join(dir, SummaryFile)} {
				read, err := ReadSummary(path)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(read, written) {
					t.Errorf("ReadSummary(%s)\n got %+v\nwant %+v", path, read, written)
				}
			}
		})
	}
}

func TestReadSummaryErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"dir without summary", t.TempDir(), "no such file"},
		{"not JSON", write("a.json", "{"), "unexpected end"},
		{"no schema", write("b.json", `{"seed": 1}`), "not a wsstorm summary"},
		{"newer schema", write("c.json", `{"schema": "wsstorm.summary/v2"}`), "not supported"},
		{"bad time", write("d.json", `{"schema": "wsstorm.summary/v1", "started_at": "yesterday"}`), "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSummary(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestWriteExtrasFailure checks that when report.html or profile.toml cannot
// be written, the contract files still are, and the error says only the
// extras failed.
func TestWriteExtrasFailure(t *testing.T) {
	dir := t.TempDir()
	// A directory where report.html should go: the rename over it fails.
	if err := os.MkdirAll(filepath.Join(dir, HTMLFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := fixtureRun(t).write(dir)
	var extras *ExtrasError
	if !errors.As(err, &extras) || !strings.Contains(err.Error(), HTMLFile) {
		t.Fatalf("Write = %v, want an ExtrasError naming %s", err, HTMLFile)
	}
	if _, err := ReadSummary(dir); err != nil {
		t.Errorf("summary.json not written: %v", err)
	}
	for _, name := range []string{HistogramsFile, TimeseriesFile, ProfileFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}

// TestWriteContractFailure checks that a contract file that cannot be
// written fails Write for real, and summary.json is still attempted.
func TestWriteContractFailure(t *testing.T) {
	tempRoot(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, TimeseriesFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := fixtureRun(t).write(dir)
	var extras *ExtrasError
	if err == nil || errors.As(err, &extras) || !strings.Contains(err.Error(), TimeseriesFile) {
		t.Fatalf("Write = %v, want a plain error naming %s", err, TimeseriesFile)
	}
	if _, err := ReadSummary(dir); err != nil {
		t.Errorf("summary.json not written: %v", err)
	}
}
