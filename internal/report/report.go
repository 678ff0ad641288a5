// Package report writes a run's results — summary.json, histograms.hlog,
// timeseries.csv, profile.toml and report.html — renders them as text,
// markdown, JSON or an HTML page, and reads them back.
package report

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
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// The files of a results directory.
const (
	SummaryFile    = "summary.json"
	HistogramsFile = "histograms.hlog"
	TimeseriesFile = "timeseries.csv"
	// ProfileFile is the effective profile of a run, written beside its
	// results.
	ProfileFile = "profile.toml"
)

// Run is everything a finished (or interrupted) run hands to the report.
type Run struct {
	Profile     *profile.Profile
	Results     *stats.Results
	Interrupted bool
	Target      *TargetSide // nil unless the embedded target ran
	// Hooks are the restart hooks' runs, by event index (external targets).
	Hooks map[int]*HookResult
	// Aborted says why the run ended early on its own, or is empty.
	Aborted string
	// Segment is set when the run was one segment of a split run: Write
	// then also writes segment.json, which merging the segments needs.
	Segment *Segment
	// Merged is set when the run was merged from a split run's segments.
	Merged *Merged
	// Simulated is set when wsstorm simulate computed the results; nil for
	// a real run.
	Simulated *Simulated
}

// Threshold is one judged threshold of the profile: the expression, the
// value the run measured (milliseconds for durations, percent for shares;
// null when the run has no value for it) and whether the run met it.
type Threshold struct {
	Expr  string   `json:"expr"`
	Value *float64 `json:"value"`
	Unit  string   `json:"unit,omitempty"` // "ms" for durations, "%" for shares
	OK    bool     `json:"ok"`
}

// TargetSide is what the embedded target saw of the run.
type TargetSide struct {
	Nodes []NodeSide `json:"nodes"`
	// ImbalanceEnd is max/mean connections per node at the end; nil when it
	// has no meaning (no connections).
	ImbalanceEnd *float64 `json:"imbalance_end"`
}

// NodeSide is one node's handshake counts and its connections at the end.
type NodeSide struct {
	Index          int   `json:"index"`
	Accepted       int64 `json:"accepted"`
	Rejected       int64 `json:"rejected"`
	ConnectionsEnd int64 `json:"connections_end"`
}

// DefaultDir returns where a run's results go without --out:
// root/<profile name>/<start in UTC as yyyymmddThhmmssZ>. Characters of the
// name other than letters, digits, '.', '_' and '-' become '_', so a name
// cannot leave root.
func DefaultDir(root, profileName string, started time.Time) string {
	return filepath.Join(root, dirName(profileName), started.UTC().Format("20060102T150405Z"))
}

func dirName(name string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
	if strings.Trim(clean, ".") == "" {
		return "unnamed"
	}
	return clean
}

// Write creates dir if needed and writes histograms.hlog, timeseries.csv,
// profile.toml (the effective profile, secrets redacted), report.html,
// segment.json for a segment of a split run, and summary.json into it. Each file is written to a temporary name in dir,
// synced and renamed, so a reader sees either the old file or the whole new
// one. summary.json comes last and is attempted whatever failed before it:
// the results gathered are worth keeping even when a file next to them
// could not be written (the error names it). report.html is rendered from
// the files just written, as `wsstorm report DIR --format html` renders it,
// so the two are the same page. An error that is an *ExtrasError means only
// profile.toml or report.html failed. The summary is returned even when
// writing fails, so the caller can still print it.
func Write(dir string, run *Run) (*Summary, error) {
	if run == nil || run.Results == nil {
		return nil, errors.New("report: no results to write")
	}
	s := BuildSummary(run)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, fmt.Errorf("report: create results directory: %w", err)
	}
	var summaryJSON bytes.Buffer
	if err := writeSummaryJSON(&summaryJSON, s); err != nil {
		return s, fmt.Errorf("report: encode %s: %w", SummaryFile, err)
	}
	// The contract files are each attempted whatever happened to the others,
	// summary.json last; profile.toml and report.html are conveniences whose
	// failure must not cost the run its results.
	var failed, extras []error
	write := func(name string, w func(io.Writer) error) bool {
		if err := writeAtomic(dir, name, w); err != nil {
			failed = append(failed, err)
			return false
		}
		return true
	}
	hlog := write(HistogramsFile, func(w io.Writer) error { return writeHistograms(w, run.Results) })
	csv := write(TimeseriesFile, func(w io.Writer) error { return writeTimeseries(w, run.Results) })
	if run.Profile != nil {
		if err := writeAtomic(dir, ProfileFile, func(w io.Writer) error { return run.Profile.WriteTOML(w) }); err != nil {
			extras = append(extras, err)
		}
	} else if err := os.Remove(filepath.Join(dir, ProfileFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// A profile.toml of an earlier run in dir would describe another run.
		extras = append(extras, err)
	}
	if run.Segment != nil {
		write(SegmentFile, func(w io.Writer) error { return writeSegmentJSON(w, run.Segment, run.Results) })
	} else if err := os.Remove(filepath.Join(dir, SegmentFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// A segment.json of an earlier run in dir would describe another run.
		failed = append(failed, err)
	}
	// The page is rendered from the files just written, as `wsstorm report`
	// renders it later.
	if hlog && csv {
		rs, err := readResultSet(dir, summaryJSON.Bytes())
		if err == nil {
			err = writeAtomic(dir, HTMLFile, rs.WriteHTML)
		}
		if err != nil {
			extras = append(extras, err)
		}
	}
	write(SummaryFile, func(w io.Writer) error {
		_, err := w.Write(summaryJSON.Bytes())
		return err
	})
	syncDir(dir)
	switch {
	case len(failed) > 0:
		return s, fmt.Errorf("report: %w", errors.Join(append(failed, extras...)...))
	case len(extras) > 0:
		return s, &ExtrasError{Err: errors.Join(extras...)}
	}
	return s, nil
}

// ExtrasError says that the results files of the contract (summary.json,
// histograms.hlog, timeseries.csv) were written but profile.toml or
// report.html could not be: the run's results are complete.
type ExtrasError struct{ Err error }

func (e *ExtrasError) Error() string { return e.Err.Error() }
func (e *ExtrasError) Unwrap() error { return e.Err }

// writeSummaryJSON writes s indented, without escaping '<', '>' and '&',
// which threshold expressions use.
func writeSummaryJSON(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// ReadSummary reads summary.json; path is the file or the results directory
// that holds it.
func ReadSummary(path string) (*Summary, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	} else if fi.IsDir() {
		path = filepath.Join(path, SummaryFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if err := s.checkSchema(); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	s.normalize()
	return &s, nil
}

// ReadSummaryDir reads the summary.json of the results directory dir. Unlike
// ReadSummary its errors say what to name when dir is not a results
// directory (a *FileError, or ErrNotResults wrapped).
func ReadSummaryDir(dir string) (*Summary, error) {
	if err := checkResultsDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, SummaryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: path, Err: unwrapPath(err)})
	}
	s, err := decodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: path, Err: err, Hint: "is this a results directory written by wsstorm run?"})
	}
	return s, nil
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
