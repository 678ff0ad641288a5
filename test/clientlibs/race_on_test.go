//go:build race

package clientlibs_test

// raceEnabled says the race detector is on: it slows the server that times
// every attempt, so the harness runs without it (.ci/run).
const raceEnabled = true
