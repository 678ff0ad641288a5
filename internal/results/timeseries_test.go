package results

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wsstorm/wsstorm/internal/stats"
)

func TestTimeseriesCSV(t *testing.T) {
	dir, _ := writeFixture(t, fixtureRun(t))
	f, err := os.Open(filepath.Join(dir, TimeseriesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"t_s", "connected", "attempts", "connects", "failures", "closes_1000", "closes_1012", "node0_conns", "node1_conns", "node2_conns", "intended_attempts", "generator_cpu_pct", "machine_cpu_pct"},
		{"0.0", "0", "40", "38", "2", "0", "0", "12", "13", "13", "40", "12", "40"},
		{"0.1", "81", "45", "45", "0", "0", "3", "27", "27", "27", "43", "35", "70"},
		{"10.1", "1990", "41", "39", "2", "5", "667", "", "1000", "990", "60", "", ""}, // -1: no sample
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("timeseries.csv\n got %q\nwant %q", rows, want)
	}
}

func TestTimeseriesCSVShortBuckets(t *testing.T) {
	// Buckets recorded before a close code or gauge existed have fewer cells.
	res := emptyResults()
	res.CloseCodes = []int{1012}
	res.GaugeNames = []string{"node0_conns"}
	res.Series = []stats.Bucket{{Start: 0}}
	dir, _ := writeFixture(t, bare(&Run{Results: res}))
	data, err := os.ReadFile(filepath.Join(dir, TimeseriesFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "t_s,connected,attempts,connects,failures,closes_1012,node0_conns,intended_attempts,generator_cpu_pct,machine_cpu_pct\n0.0,0,0,0,0,0,,0,0,0\n"
	if string(data) != want {
		t.Errorf("timeseries.csv\n got %q\nwant %q", data, want)
	}
}
