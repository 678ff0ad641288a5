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
	"slices"
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
// when a file next to them could not be written.
//
// A file of the contract that dir cannot take (a full disk, a directory
// removed during the run) is written to a fallback directory instead (see
// FallbackError), so that a CI job still has a machine-readable result; the
// error is then a *FallbackError. An error that is an *ExtrasError means
// only profile.toml or report.html failed.
func Write(dir string, run *Run, s *Summary, extras Extras) error {
	return disk{}.write(dir, run, s, extras)
}

// disk stands between Write and the files it writes, so that a test can
// fill one up. Its zero value is the machine's filesystem.
type disk struct {
	// wrap, if set, wraps the writer of each file written in dir.
	wrap func(dir string, w io.Writer) io.Writer
}

// file is one file of a run's results, and how to write it.
type file struct {
	name  string
	write func(io.Writer) error
}

func (d disk) write(dir string, run *Run, s *Summary, extras Extras) error {
	if run == nil || run.Results == nil {
		return errors.New("report: no results to write")
	}
	var summaryJSON bytes.Buffer
	if err := s.WriteJSON(&summaryJSON); err != nil {
		return fmt.Errorf("report: encode %s: %w", SummaryFile, err)
	}
	contract := []file{
		{HistogramsFile, func(w io.Writer) error { return writeHistograms(w, run.Results) }},
		{TimeseriesFile, func(w io.Writer) error { return writeTimeseries(w, run.Results) }},
	}
	if run.Segment != nil {
		contract = append(contract, file{SegmentFile, func(w io.Writer) error { return writeSegmentJSON(w, run.Segment, run.Results) }})
	}
	contract = append(contract, file{SummaryFile, func(w io.Writer) error {
		_, err := w.Write(summaryJSON.Bytes())
		return err
	}})
	profile := file{ProfileFile, extras.Profile}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		// Nothing can go there: all of it goes to the fallback.
		err = fmt.Errorf("create results directory: %w", err)
		lost := inOrder(contract, profile)
		return d.fallBack(dir, s, lost, func(string) error { return err }, nil)
	}
	failed, extra, stale := d.writeAll(dir, contract, profile, summaryJSON.Bytes(), extras.Page)
	syncDir(dir)
	if len(failed) > 0 {
		var lost []file
		for _, f := range inOrder(contract, profile) {
			if _, ok := failed[f.name]; ok {
				lost = append(lost, f)
			}
		}
		return d.fallBack(dir, s, lost, func(name string) error { return failed[name] }, stale)
	}
	if stale != nil {
		return fmt.Errorf("report: %w", errors.Join(append([]error{stale}, extra...)...))
	}
	if len(extra) > 0 {
		return &ExtrasError{Err: errors.Join(extra...)}
	}
	return nil
}

// inOrder returns the contract's files and profile.toml, if the run has
// one, in the order Write writes them: profile.toml after the histograms
// and the time series, summary.json last.
func inOrder(contract []file, profile file) []file {
	files := slices.Clone(contract[:2])
	if profile.write != nil {
		files = append(files, profile)
	}
	return append(files, contract[2:]...)
}

// writeAll writes the files to dir: the contract's, summary.json last, with
// profile.toml and report.html (page) between. It returns why each file
// that failed did, by name (profile.toml only when a file of the contract
// failed too: then it goes to the fallback with them), the errors of the
// extras, and the error of removing a segment.json that does not belong to
// this run.
func (d disk) writeAll(dir string, contract []file, profile file, summaryJSON []byte, page func(io.Writer, *ResultSet) error) (failed map[string]error, extra []error, stale error) {
	failed = map[string]error{}
	write := func(f file) {
		if err := d.writeAtomic(dir, f.name, f.write); err != nil {
			failed[f.name] = err
		}
	}
	write(contract[0])
	write(contract[1])
	profileErr := d.writeOrRemove(dir, profile.name, profile.write)
	if profileErr != nil {
		extra = append(extra, profileErr)
	}
	for _, f := range contract[2 : len(contract)-1] { // segment.json, if any
		write(f)
	}
	if !slices.ContainsFunc(contract, func(f file) bool { return f.name == SegmentFile }) {
		stale = removeStale(dir, SegmentFile)
	}
	_, hlogFailed := failed[HistogramsFile]
	if _, csvFailed := failed[TimeseriesFile]; !hlogFailed && !csvFailed {
		if err := d.writePage(dir, summaryJSON, page); err != nil {
			extra = append(extra, err)
		}
	}
	write(contract[len(contract)-1])
	if len(failed) > 0 && profileErr != nil && profile.write != nil {
		failed[profile.name] = profileErr
	}
	return failed, extra, stale
}

// writeOrRemove writes dir/name with write, or removes the file when write
// is nil.
func (d disk) writeOrRemove(dir, name string, write func(io.Writer) error) error {
	if write == nil {
		return removeStale(dir, name)
	}
	return d.writeAtomic(dir, name, write)
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
func (d disk) writePage(dir string, summaryJSON []byte, page func(io.Writer, *ResultSet) error) error {
	if page == nil {
		return removeStale(dir, HTMLFile)
	}
	rs, err := readResultSet(dir, summaryJSON)
	if err != nil {
		return err
	}
	return d.writeAtomic(dir, HTMLFile, func(w io.Writer) error { return page(w, rs) })
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

// writeAtomic writes dir/name on the machine's filesystem (see
// disk.writeAtomic).
func writeAtomic(dir, name string, write func(io.Writer) error) error {
	return disk{}.writeAtomic(dir, name, write)
}

// writeAtomic writes dir/name through a temporary file in dir: written,
// synced, then renamed over name. On any error the temporary file is removed
// and name is left as it was.
func (d disk) writeAtomic(dir, name string, write func(io.Writer) error) (err error) {
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
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Path == tmp {
				err = pe.Err // as above: "no space left on device" is the news
			}
			err = fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
		}
	}()
	var out io.Writer = f
	if d.wrap != nil {
		out = d.wrap(dir, f)
	}
	bw := bufio.NewWriter(out)
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
