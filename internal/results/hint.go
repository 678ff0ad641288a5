package results

import "github.com/wsstorm/wsstorm/internal/stats"

// FailureHint says what a user can change about failures with reason, a
// reason as results spell it; "" for a reason with no fix on the client's
// machine.
func FailureHint(reason string) string {
	switch reason {
	case stats.NoSourcePort.String():
		return "no local port was free: add source addresses with fleet.source_addrs, or lower the attempt rate (fleet.max_dialing, a backoff)"
	case stats.TooManyOpenFiles.String():
		return "out of file descriptors: raise the open-file limit (ulimit -n), or split the run with --processes"
	}
	return ""
}
