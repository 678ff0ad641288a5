package report

import "github.com/HdrHistogram/hdrhistogram-go"

// Histogram returns the interval of histograms.hlog tagged tag (a metric's
// name, such as "connect", or EventTag(i)), nil when the log has none.
func (r *ResultSet) Histogram(tag string) *hdrhistogram.Histogram { return r.histogram(tag) }

// Column returns the values of timeseries.csv's column name, one per
// bucket; nil when the file has no such column.
func (r *ResultSet) Column(name string) []float64 {
	if r.series == nil {
		return nil
	}
	return r.series.col(name)
}
