package storm

import (
	"bytes"
	"os"
	"strconv"
)

// machineCPU reads the machine's CPU time, busy and in all, in clock ticks
// from the first line of /proc/stat (proc_stat(5)): busy is user, nice,
// system, irq, softirq and steal; all adds idle and iowait. Guest time is
// counted in user already.
func machineCPU() (busy, all uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	return procStatCPU(data)
}

// procStatCPU reads machineCPU's figures from the text of /proc/stat.
func procStatCPU(data []byte) (busy, all uint64, ok bool) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	fields := bytes.Fields(line)
	if len(fields) < 9 || string(fields[0]) != "cpu" {
		return 0, 0, false
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		var err error
		if v[i], err = strconv.ParseUint(string(fields[i+1]), 10, 64); err != nil {
			return 0, 0, false
		}
	}
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + v[3] + v[4], true
}
