package standalone

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReadyRoundTrip: a ready file reads back as written, replaces an old
// one whole, and leaves no temporary file; a missing one is ErrNotExist and
// a foreign one an error.
func TestReadyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ready.json")
	if _, err := ReadReady(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	for _, r := range []Ready{
		{URL: "ws://127.0.0.1:8080/", AdminURL: "http://127.0.0.1:9900/", Nodes: 3},
		{URL: "ws://127.0.0.1:8080/", AdminURL: "http://127.0.0.1:9901/", Nodes: 2, FirstNode: 3},
	} {
		if err := r.Write(path); err != nil {
			t.Fatal(err)
		}
		got, err := ReadReady(path)
		if err != nil || got != r {
			t.Errorf("read %+v, %v; want %+v", got, err, r)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want the ready file alone", len(entries))
	}
	for _, bad := range []string{"not json", `{"url":"ws://h/"}`} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadReady(path); err == nil || errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: %v, want an error", bad, err)
		}
	}
}
