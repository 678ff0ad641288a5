package results

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// IntendedColumn is the timeseries.csv column of the attempts the clients
// meant to start in each bucket, and CPUColumn the percent of its cores the
// generator's process was busy (empty: not sampled); results written
// before they existed lack them.
const (
	IntendedColumn = "intended_attempts"
	CPUColumn      = "generator_cpu_pct"
	MachineColumn  = "machine_cpu_pct"
)

// writeTimeseries writes one CSV row per time-series bucket: t_s (the
// bucket's start in seconds), connected, attempts, connects, failures, then
// closes_<code> for each close code seen, then one column per gauge (e.g.
// connections per node), then intended_attempts (stats.Bucket.Intended),
// generator_cpu_pct and machine_cpu_pct (stats.Bucket.CPU and MachineCPU).
// A gauge or a CPU share not sampled in a bucket is an empty cell.
func writeTimeseries(w io.Writer, r *stats.Results) error {
	cw := csv.NewWriter(w)
	header := []string{"t_s", "connected", "attempts", "connects", "failures"}
	for _, code := range r.CloseCodes {
		if code == stats.OtherCodes {
			header = append(header, "closes_other")
			continue
		}
		header = append(header, "closes_"+strconv.Itoa(code))
	}
	header = append(header, r.GaugeNames...)
	// Added to the contract after the rest: readers that place columns by
	// position find the old ones where they were.
	header = append(header, IntendedColumn, CPUColumn, MachineColumn)
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(header))
	for _, b := range r.Series {
		row = row[:0]
		row = append(row,
			strconv.FormatFloat(b.Start.Seconds(), 'f', 1, 64),
			strconv.FormatInt(b.Connected, 10),
			strconv.FormatInt(b.Attempts, 10),
			strconv.FormatInt(b.Connects, 10),
			strconv.FormatInt(b.Failures, 10),
		)
		for i := range r.CloseCodes {
			var n int64 // a bucket recorded before a code was first seen has no cell for it
			if i < len(b.Closes) {
				n = b.Closes[i]
			}
			row = append(row, strconv.FormatInt(n, 10))
		}
		for i := range r.GaugeNames {
			cell := ""
			if i < len(b.Gauges) && b.Gauges[i] >= 0 {
				cell = strconv.FormatInt(b.Gauges[i], 10)
			}
			row = append(row, cell)
		}
		row = append(row, strconv.FormatInt(b.Intended, 10), share(b.CPU), share(b.MachineCPU))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// share writes a percentage the series may not know (-1): empty then.
func share(v int64) string {
	if v < 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}
