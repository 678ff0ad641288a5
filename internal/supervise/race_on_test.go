//go:build race

package supervise

// raceEnabled says the race detector is on: the program under test is
// built with it too.
const raceEnabled = true
