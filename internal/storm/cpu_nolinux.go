//go:build !linux

package storm

// machineCPU is not read here: only the process's own CPU is judged.
func machineCPU() (busy, all uint64, ok bool) { return 0, 0, false }
