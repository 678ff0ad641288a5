package storm

import (
	"fmt"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// portsPerAddress is how many connections one source address can hold to one
// destination address and port: the default ephemeral range 32768–60999.
const portsPerAddress = 28232

// reservedFiles are descriptors the process needs besides connections
// (listeners, stdio, results files, the Go runtime).
const reservedFiles = 64

// Memory estimates, measured on linux/amd64 (BenchmarkIdleClientMemory: a
// connected idle client costs the fleet 11.5 KiB of heap and stack, 14.3 KiB
// of RSS) and rounded up, plus the recorder and runtime.
const (
	clientBytes    = 16 << 10
	targetConnByte = 16 << 10
	baseBytes      = 128 << 20
)

// machine is what this process may use.
type machine struct {
	files, memory           uint64 // open-file limit, available memory in bytes
	filesKnown, memoryKnown bool
}

func thisMachine() machine {
	var m machine
	m.files, m.filesKnown = openFileLimit()
	m.memory, m.memoryKnown = availableMemory()
	return m
}

// CheckLimits says, before anything is dialed, whether this process can hold
// the connections p asks for, and what to change if it cannot.
func CheckLimits(p *profile.Profile) error { return checkLimits(p, thisMachine()) }

func checkLimits(p *profile.Profile, m machine) error {
	clients := uint64(p.Fleet.Clients)
	embedded := p.Target.Mode == profile.ModeEmbedded
	var problems []string

	if clients > portsPerAddress {
		problems = append(problems, fmt.Sprintf(
			"%d clients need %d source ports to one target address, but one source address has about %d: "+
				"set fleet.clients to at most %d per process", clients, clients, portsPerAddress, portsPerAddress))
	}

	perClient, side := uint64(1), ""
	if embedded {
		perClient = 2
		side = " (one for each client and one for the embedded target's end)"
	}
	if need := clients*perClient + reservedFiles; m.filesKnown && need > m.files {
		most := (max(m.files, reservedFiles) - reservedFiles) / perClient
		fix := "raise the limit with `ulimit -n` (the hard limit caps it)"
		if embedded {
			fix = "run the target in a separate process, or " + fix
		}
		problems = append(problems, fmt.Sprintf(
			"%d clients need about %d open files%s, but this process may open %d: set fleet.clients to at most %d, or %s",
			clients, need, side, m.files, most, fix))
	}

	perBytes := uint64(clientBytes)
	if embedded {
		perBytes += targetConnByte
	}
	if need := clients*perBytes + baseBytes; m.memoryKnown && need > m.memory {
		most := (max(m.memory, baseBytes) - baseBytes) / perBytes
		problems = append(problems, fmt.Sprintf(
			"%d clients need about %d MiB of memory, but %d MiB is available: set fleet.clients to at most %d, or spread the fleet over several machines",
			clients, need>>20, m.memory>>20, most))
	}

	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrCannotRun, strings.Join(problems, "; "))
}
