package results

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fullDisk stands in for a filesystem that fills up: the files written in
// dir share room for limit bytes, and a write past it fails with ENOSPC, as
// the kernel's does. Other directories are untouched.
type fullDisk struct {
	dir string

	mu   sync.Mutex
	left int
}

func (fd *fullDisk) disk() disk {
	return disk{wrap: func(dir string, w io.Writer) io.Writer {
		if dir != fd.dir {
			return w
		}
		return writerFunc(func(b []byte) (int, error) {
			fd.mu.Lock()
			n := min(len(b), fd.left)
			fd.left -= n
			fd.mu.Unlock()
			n, err := w.Write(b[:n])
			if err == nil && n < len(b) {
				// What the kernel's full disk gives an *os.File's Write.
				err = &os.PathError{Op: "write", Path: w.(*os.File).Name(), Err: syscall.ENOSPC}
			}
			return n, err
		})
	}}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// tempRoot makes os.TempDir(), where fallback directories go, a fresh
// directory of the test's, and returns it.
func tempRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Setenv("TMPDIR", root)
	return root
}

// fallbackDir returns the one fallback directory under root.
func fallbackDir(t *testing.T, root string, s *Summary) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(root, "wsstorm-default-"+s.StartedAt.UTC().Format("20060102T150405Z")+"-*"))
	if len(matches) != 1 {
		t.Fatalf("fallback directories %q in %s (holding %q), want one", matches, root, dirNames(t, root))
	}
	fi, err := os.Stat(matches[0])
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("fallback %v: %v", fi, err)
	}
	return matches[0]
}

// TestWriteDiskFillsUp: the disk fills up after histograms.hlog and
// timeseries.csv. summary.json and profile.toml, which did not fit, land in
// a fallback directory, summary.json byte for byte as it would have been
// written; the error is a *FallbackError that names each, where it went and
// why; the results directory keeps what fitted and no temporary file.
func TestWriteDiskFillsUp(t *testing.T) {
	run := fixtureRun(t)
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := run.write(ref); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(ref, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var room int
	for _, name := range []string{HistogramsFile, TimeseriesFile} {
		fi, err := os.Stat(filepath.Join(ref, name))
		if err != nil {
			t.Fatal(err)
		}
		room += int(fi.Size())
	}

	root := tempRoot(t)
	dir := filepath.Join(t.TempDir(), "out")
	fd := &fullDisk{dir: dir, left: room + 5}
	s := run.summary()
	werr := fd.disk().write(dir, run.Run, s, run.extras())

	var fe *FallbackError
	if !errors.As(werr, &fe) || !errors.Is(werr, syscall.ENOSPC) || fe.Lost() {
		t.Fatalf("Write = %v, want a *FallbackError of ENOSPC with nothing lost", werr)
	}
	fallback := fallbackDir(t, root, s)
	if fe.Dir != dir || fe.Fallback != fallback {
		t.Errorf("dir %q fallback %q, want %q %q", fe.Dir, fe.Fallback, dir, fallback)
	}
	got, err := os.ReadFile(filepath.Join(fallback, SummaryFile))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("fallback summary.json differs from the one written whole (%v):\n%s", err, got)
	}
	if names := dirNames(t, fallback); !slices.Equal(names, []string{ProfileFile, SummaryFile}) {
		t.Errorf("fallback holds %q, want profile.toml and summary.json", names)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{HistogramsFile, TimeseriesFile}) {
		t.Errorf("results directory holds %q, want what fitted and no temporary file", names)
	}
	for _, line := range []string{
		"wrote profile.toml to " + filepath.Join(fallback, ProfileFile) + " instead: write " + filepath.Join(dir, ProfileFile) + ": no space left on device",
		"wrote summary.json to " + filepath.Join(fallback, SummaryFile) + " instead: write " + filepath.Join(dir, SummaryFile) + ": no space left on device",
	} {
		if !slices.Contains(strings.Split(werr.Error(), "\n"), line) {
			t.Errorf("error lacks the line %q:\n%s", line, werr)
		}
	}
}

// TestWriteDirGone: a results directory that cannot be made at all (a file
// took its place) sends every file to the fallback, which then reads back
// as a whole results directory.
func TestWriteDirGone(t *testing.T) {
	root := tempRoot(t)
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(dir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := fixtureRun(t)
	s, werr := run.write(dir)
	var fe *FallbackError
	if !errors.As(werr, &fe) || fe.Lost() || len(fe.Files) != 4 {
		t.Fatalf("Write = %v, want a *FallbackError with 4 files, none lost", werr)
	}
	fallback := fallbackDir(t, root, s)
	want := []string{HistogramsFile, ProfileFile, SummaryFile, TimeseriesFile}
	if names := dirNames(t, fallback); !slices.Equal(names, want) {
		t.Errorf("fallback holds %q, want %q", names, want)
	}
	rs, err := ReadResultSet(fallback)
	if err != nil || rs.Summary.Counters.Connects != 2687 {
		t.Errorf("fallback does not read back: %v", err)
	}
	if !strings.Contains(werr.Error(), "create results directory: mkdir "+dir) {
		t.Errorf("error does not say why: %v", werr)
	}
}

// TestWriteNoFallback: when the fallback cannot be made either, the error
// says both, and no empty fallback is left.
func TestWriteNoFallback(t *testing.T) {
	root := filepath.Join(t.TempDir(), "missing")
	t.Setenv("TMPDIR", root)
	dir := filepath.Join(t.TempDir(), "out")
	fd := &fullDisk{dir: dir}
	run := fixtureRun(t)
	err := fd.disk().write(dir, run.Run, run.summary(), run.extras())
	var fe *FallbackError
	if !errors.As(err, &fe) || !fe.Lost() || fe.Fallback != "" {
		t.Fatalf("Write = %v, want a *FallbackError with files lost", err)
	}
	if !strings.Contains(err.Error(), "write "+filepath.Join(dir, SummaryFile)+": no space left on device; and no fallback directory: ") {
		t.Errorf("error does not say both:\n%v", err)
	}
}
