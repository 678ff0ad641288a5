package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// ResultSet is a results directory read back: what the HTML report draws
// from. `wsstorm report DIR` reads one, and Write reads one back from the
// files it has just written for Extras.Page, so both pages come out of the
// same bytes.
type ResultSet struct {
	Dir     string
	Summary *Summary
	// ProfileTOML is profile.toml as written by the run; empty for results
	// of a version of wsstorm that did not write it.
	ProfileTOML string

	series     *series
	histograms map[string]*hdrhistogram.Histogram // by .hlog tag
}

// Histogram returns the interval of histograms.hlog tagged tag (a metric's
// name, such as "connect", or EventTag(i)), nil when the log has none.
func (r *ResultSet) Histogram(tag string) *hdrhistogram.Histogram { return r.histograms[tag] }

// Column returns the values of timeseries.csv's column name, one per
// bucket; nil when the file has no such column.
func (r *ResultSet) Column(name string) []float64 {
	if r.series == nil {
		return nil
	}
	return r.series.col(name)
}

// Columns returns the names of timeseries.csv's columns, in file order.
func (r *ResultSet) Columns() []string {
	if r.series == nil {
		return nil
	}
	return r.series.header
}

// FileError is a results file that cannot be read or makes no sense. Its
// message names the file and says what to do.
type FileError struct {
	Path string
	Line int // 0: not known
	Err  error
	Hint string // what to do about it
}

// Error says where the problem is, what it is, and what to do.
func (e *FileError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	msg := where + ": " + e.Err.Error()
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap returns what is wrong with the file.
func (e *FileError) Unwrap() error { return e.Err }

// ErrNotResults is the error, wrapped, of a directory that holds no
// summary.json.
var ErrNotResults = errors.New("not a wsstorm results directory")

const damagedHint = "the file is damaged or was edited: run the storm again, or use --format text, markdown or json, which read only summary.json"

// ReadResultSet reads the results directory dir: summary.json,
// timeseries.csv, histograms.hlog and, when present, profile.toml. An error
// names the file at fault (a *FileError, or ErrNotResults wrapped when dir
// has no summary.json).
func ReadResultSet(dir string) (*ResultSet, error) {
	data, _, err := readSummaryFile(dir)
	if err != nil {
		return nil, err
	}
	return readResultSet(dir, data)
}

// readSummaryFile reads the summary.json of the results directory dir and
// returns its bytes and path; its errors say what to name when dir is not a
// results directory.
func readSummaryFile(dir string) ([]byte, string, error) {
	if err := checkResultsDir(dir); err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, SummaryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("report: %w", &FileError{Path: path, Err: unwrapPath(err)})
	}
	return data, path, nil
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
	s, err := decodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return s, nil
}

// ReadSummaryDir reads the summary.json of the results directory dir. Unlike
// ReadSummary its errors say what to name when dir is not a results
// directory (a *FileError, or ErrNotResults wrapped).
func ReadSummaryDir(dir string) (*Summary, error) {
	data, path, err := readSummaryFile(dir)
	if err != nil {
		return nil, err
	}
	s, err := decodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: path, Err: err, Hint: "is this a results directory written by wsstorm run?"})
	}
	return s, nil
}

// checkResultsDir reports a dir that does not exist, is not a directory or
// has no summary.json, in words that say what to name instead.
func checkResultsDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("report: %w", &FileError{Path: dir, Err: unwrapPath(err), Hint: "name a results directory written by wsstorm run, e.g. results/default/20261125T152325Z"})
	}
	if !fi.IsDir() {
		return fmt.Errorf("report: %w", &FileError{Path: dir, Err: errors.New("not a directory"), Hint: "name the results directory that holds summary.json"})
	}
	if _, err := os.Stat(filepath.Join(dir, SummaryFile)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("report: %s: %w: it has no %s (wsstorm run writes it last, so a run that was killed may have left none)", dir, ErrNotResults, SummaryFile)
	}
	return nil
}

// readResultSet reads dir's other files around the summary in
// summaryJSON, decoded as ReadSummary decodes summary.json.
func readResultSet(dir string, summaryJSON []byte) (*ResultSet, error) {
	sumPath := filepath.Join(dir, SummaryFile)
	s, err := decodeSummary(summaryJSON)
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: sumPath, Err: err, Hint: "is this a results directory written by wsstorm run?"})
	}
	rs := &ResultSet{Dir: dir, Summary: s}

	tsPath := filepath.Join(dir, TimeseriesFile)
	f, err := os.Open(tsPath)
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: tsPath, Err: unwrapPath(err), Hint: "the results are incomplete; --format text, markdown and json read only summary.json"})
	}
	rs.series, err = readSeries(f)
	f.Close()
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Path = tsPath
			return nil, fmt.Errorf("report: %w", fe)
		}
		return nil, fmt.Errorf("report: %w", &FileError{Path: tsPath, Err: err, Hint: damagedHint})
	}

	hPath := filepath.Join(dir, HistogramsFile)
	data, err := os.ReadFile(hPath)
	if err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: hPath, Err: unwrapPath(err), Hint: "the results are incomplete; --format text, markdown and json read only summary.json"})
	}
	if rs.histograms, err = readHistogramLog(data); err != nil {
		return nil, fmt.Errorf("report: %w", &FileError{Path: hPath, Err: err, Hint: damagedHint})
	}

	switch p, err := os.ReadFile(filepath.Join(dir, ProfileFile)); {
	case err == nil:
		rs.ProfileTOML = string(p)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("report: %w", &FileError{Path: filepath.Join(dir, ProfileFile), Err: unwrapPath(err)})
	}
	return rs, nil
}

// decodeSummary decodes summary.json's content as ReadSummary does.
func decodeSummary(data []byte) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if err := s.checkSchema(); err != nil {
		return nil, err
	}
	s.normalize()
	return &s, nil
}

// unwrapPath drops the *fs.PathError around err: the caller names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// series is timeseries.csv: one row per bucket, columns by header name.
// An empty cell (a gauge not sampled) is NaN.
type series struct {
	header []string
	cols   map[string][]float64
	rows   int
}

// col returns the column named name, nil when the file has none.
func (s *series) col(name string) []float64 { return s.cols[name] }

// maxSeriesRows bounds timeseries.csv: 24 hours of 100 ms buckets, the
// longest run, with room to spare.
const maxSeriesRows = 2_000_000

// readSeries reads timeseries.csv. Every row must have the header's
// columns, and every cell must be a number or empty.
func readSeries(r io.Reader) (*series, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &FileError{Err: errors.New("the file is empty, not even a header"), Hint: damagedHint}
	}
	if err != nil {
		return nil, csvError(err)
	}
	header = append([]string(nil), header...)
	if len(header) == 0 || header[0] != "t_s" {
		return nil, &FileError{Line: 1, Err: fmt.Errorf("the header starts with %q, not t_s: not a wsstorm time series", header[0]), Hint: damagedHint}
	}
	s := &series{header: header, cols: make(map[string][]float64, len(header))}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		if s.rows >= maxSeriesRows {
			line, _ := cr.FieldPos(0)
			return nil, &FileError{Line: line, Err: fmt.Errorf("more than %d rows, longer than any run", maxSeriesRows), Hint: damagedHint}
		}
		for i, cell := range rec {
			v := math.NaN()
			if cell != "" {
				if v, err = strconv.ParseFloat(cell, 64); err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
					line, _ := cr.FieldPos(i)
					return nil, &FileError{Line: line, Err: fmt.Errorf("%s: %q is not a number", header[i], cell), Hint: damagedHint}
				}
			}
			s.cols[header[i]] = append(s.cols[header[i]], v)
		}
		if math.IsNaN(s.cols["t_s"][s.rows]) {
			line, _ := cr.FieldPos(0)
			return nil, &FileError{Line: line, Err: errors.New("t_s is empty"), Hint: damagedHint}
		}
		s.rows++
	}
	return s, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{Line: pe.StartLine, Err: pe.Err, Hint: damagedHint}
	}
	return err
}

// readHistogramLog reads every interval of an .hlog file by tag; a later
// interval with the same tag is merged into the first.
func readHistogramLog(data []byte) (hs map[string]*hdrhistogram.Histogram, err error) {
	// The log is input from disk and the decoder is not ours: damage it did
	// not foresee must give an error, not a stack trace.
	defer func() {
		if p := recover(); p != nil {
			hs, err = nil, fmt.Errorf("cannot decode a histogram: %v", p)
		}
	}()
	hs = map[string]*hdrhistogram.Histogram{}
	r := hdrhistogram.NewHistogramLogReader(bytes.NewReader(data))
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("cannot decode a histogram: %w", err)
		}
		if h == nil {
			break
		}
		if prev, ok := hs[h.Tag()]; ok {
			prev.Merge(h)
			continue
		}
		hs[h.Tag()] = h
	}
	if len(hs) == 0 {
		return nil, errors.New("no histogram in the file")
	}
	// Every run writes every metric's interval; the reader skips lines it
	// cannot parse, so a missing one is damage. But dial_lag: the logs of
	// runs before it lack it, and nothing drawn from the log needs it.
	for _, m := range stats.Metrics {
		if hs[m.String()] == nil && m != stats.DialLag {
			return nil, fmt.Errorf("no interval tagged %s", m)
		}
	}
	return hs, nil
}
