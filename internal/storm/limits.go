package storm

import (
	"fmt"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// portsPerAddress is how many connections one source address can hold to one
// destination address and port: the default ephemeral range 32768–60999.
const portsPerAddress = 28232

// reservedFiles are descriptors the process needs besides connections
// (listeners, stdio, results files, the Go runtime).
const reservedFiles = 64

// CheckLimits says, before anything is dialed, whether this process can hold
// the connections p asks for, and what to change if it cannot.
func CheckLimits(p *profile.Profile) error {
	if p.Fleet.Clients > portsPerAddress {
		return fmt.Errorf("%w: %d clients need %d source ports to one target address, but one source address has about %d: "+
			"set fleet.clients to at most %d", ErrCannotRun, p.Fleet.Clients, p.Fleet.Clients, portsPerAddress, portsPerAddress)
	}
	perClient := 1
	side := ""
	if p.Target.Mode == "embedded" {
		perClient = 2 // the embedded target holds the server's end in this process
		side = " (one for each client and one for the embedded target's end)"
	}
	need := p.Fleet.Clients*perClient + reservedFiles
	limit, ok := openFileLimit()
	if ok && uint64(need) > limit {
		most := (int(limit) - reservedFiles) / perClient
		return fmt.Errorf("%w: %d clients need about %d open files%s, but this process may open %d: "+
			"set fleet.clients to at most %d, or raise the limit with `ulimit -n` (the hard limit caps it)",
			ErrCannotRun, p.Fleet.Clients, need, side, limit, max(most, 0))
	}
	return nil
}
