//go:build !race

package simulate

// raceEnabled says the race detector is on: a real run's timings are then
// not representative.
const raceEnabled = false
