//go:build !race

package fleet

// raceEnabled says the race detector is on: memory is then not representative.
const raceEnabled = false
