package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Extras write the files beside a run's results that the contract does not
// include. Write writes them as conveniences: their failure does not cost
// the run its results (it is an *ExtrasError).
type Extras struct {
	// Profile writes profile.toml, the effective profile the run used. Nil:
	// the run has none, and a profile.toml an earlier run left in the
	// directory, which would describe another run, is removed.
	Profile func(w io.Writer) error
	// Page writes report.html from rs, the results directory's files just
	// written and read back, as `wsstorm report DIR --format html` reads
	// them, so the two are the same page. Nil: no page, and one an earlier
	// run left is removed.
	Page func(w io.Writer, rs *ResultSet) error
}

// Write creates dir if needed and writes the results of run, whose summary
// is s, into it, in this order: histograms.hlog, timeseries.csv,
// profile.toml (extras.Profile), segment.json for a segment of a split run,
// report.html (extras.Page) and summary.json. Each file is written to a
// temporary name in dir, synced and renamed, so a reader sees either the
// old file or the whole new one. summary.json comes last and is attempted
// whatever failed before it: the results gathered are worth keeping even
// when a file next to them could not be written (the error names it). An
// error that is an *ExtrasError means only profile.toml or report.html
// failed.
func Write(dir string, run *Run, s *Summary, extras Extras) error {
	if run == nil || run.Results == nil {
		return errors.New("report: no results to write")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: create results directory: %w", err)
	}
	var summaryJSON bytes.Buffer
	if err := s.WriteJSON(&summaryJSON); err != nil {
		return fmt.Errorf("report: encode %s: %w", SummaryFile, err)
	}
	// The contract files are each attempted whatever happened to the others,
	// summary.json last; profile.toml and report.html are conveniences whose
	// failure must not cost the run its results.
	var failed, extra []error
	write := func(name string, w func(io.Writer) error) bool {
		if err := writeAtomic(dir, name, w); err != nil {
			failed = append(failed, err)
			return false
		}
		return true
	}
	hlog := write(HistogramsFile, func(w io.Writer) error { return writeHistograms(w, run.Results) })
	csv := write(TimeseriesFile, func(w io.Writer) error { return writeTimeseries(w, run.Results) })
	if err := writeOrRemove(dir, ProfileFile, extras.Profile); err != nil {
		extra = append(extra, err)
	}
	if run.Segment != nil {
		write(SegmentFile, func(w io.Writer) error { return writeSegmentJSON(w, run.Segment, run.Results) })
	} else if err := removeStale(dir, SegmentFile); err != nil {
		failed = append(failed, err)
	}
	if hlog && csv {
		if err := writePage(dir, summaryJSON.Bytes(), extras.Page); err != nil {
			extra = append(extra, err)
		}
	}
	write(SummaryFile, func(w io.Writer) error {
		_, err := w.Write(summaryJSON.Bytes())
		return err
	})
	syncDir(dir)
	switch {
	case len(failed) > 0:
		return fmt.Errorf("report: %w", errors.Join(append(failed, extra...)...))
	case len(extra) > 0:
		return &ExtrasError{Err: errors.Join(extra...)}
	}
	return nil
}

// writeOrRemove writes dir/name with write, or removes the file when write
// is nil.
func writeOrRemove(dir, name string, write func(io.Writer) error) error {
	if write == nil {
		return removeStale(dir, name)
	}
	return writeAtomic(dir, name, write)
}

// removeStale removes dir/name, a file an earlier run in dir left that
// would describe another run.
func removeStale(dir, name string) error {
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writePage writes report.html with page from the files just written in
// dir and the summary in summaryJSON, which is not written yet.
func writePage(dir string, summaryJSON []byte, page func(io.Writer, *ResultSet) error) error {
	if page == nil {
		return removeStale(dir, HTMLFile)
	}
	rs, err := readResultSet(dir, summaryJSON)
	if err != nil {
		return err
	}
	return writeAtomic(dir, HTMLFile, func(w io.Writer) error { return page(w, rs) })
}

// ExtrasError says that the results files of the contract (summary.json,
// histograms.hlog, timeseries.csv) were written but profile.toml or
// report.html could not be: the run's results are complete.
type ExtrasError struct{ Err error }

// Error says which of the extras failed, and why.
func (e *ExtrasError) Error() string { return e.Err.Error() }

// Unwrap returns the extras' errors, joined.
func (e *ExtrasError) Unwrap() error { return e.Err }

// WriteJSON writes s as summary.json holds it: indented, without escaping
// '<', '>' and '&', which threshold expressions use.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteFile writes the file at path as write produces it, atomically: a
// reader sees the old file or the whole new one, never half of it.
func WriteFile(path string, write func(io.Writer) error) error {
	return writeAtomic(filepath.Dir(path), filepath.Base(path), write)
}

// writeAtomic writes dir/name through a temporary file in dir: written,
// synced, then renamed over name. On any error the temporary file is removed
// and name is left as it was.
func writeAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		// The temporary name means nothing to the user; the file's does.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // may already be closed; the first error is the one to report
			os.Remove(tmp)
			err = fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
	}()
	bw := bufio.NewWriter(f)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	// CreateTemp makes the file private (0600); results are meant to be shared.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// syncDir makes the renames durable. It is best effort: some platforms
// (Windows) cannot sync a directory, and the files themselves are already
// complete.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
