// Package report writes a run's results — summary.json, histograms.hlog and
// timeseries.csv — and the end-of-run text summary, and reads summaries back.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// Run is everything a finished (or interrupted) run hands to the report.
type Run struct {
	Profile     *profile.Profile
	Results     *stats.Results
	Interrupted bool
	Target      *TargetSide // nil unless the embedded target ran
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

// Write creates dir if needed and writes summary.json, histograms.hlog and
// timeseries.csv into it. Each file is written to a temporary name in dir,
// synced and renamed, so a reader sees either the old file or the whole new
// one; summary.json comes last, so its presence means the set is complete.
// The summary is returned even when writing fails, so the caller can still
// print it.
func Write(dir string, run *Run) (*Summary, error) {
	if run == nil || run.Results == nil {
		return nil, errors.New("report: no results to write")
	}
	s := BuildSummary(run)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, fmt.Errorf("report: create results directory: %w", err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{HistogramsFile, func(w io.Writer) error { return writeHistograms(w, run.Results) }},
		{TimeseriesFile, func(w io.Writer) error { return writeTimeseries(w, run.Results) }},
		{SummaryFile, func(w io.Writer) error { return writeSummaryJSON(w, s) }},
	}
	for _, f := range files {
		if err := writeAtomic(dir, f.name, f.write); err != nil {
			return s, fmt.Errorf("report: %w", err)
		}
	}
	syncDir(dir)
	return s, nil
}

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

// writeAtomic writes dir/name through a temporary file in dir: written,
// synced, then renamed over name. On any error the temporary file is removed
// and name is left as it was.
func writeAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
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
