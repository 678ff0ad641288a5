//go:build race

package storm

// raceEnabled says the race detector is on: memory and CPU are then not
// representative.
const raceEnabled = true
