package storm

import (
	"fmt"
	"math"
	neturl "net/url"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// portsPerAddress is how many connections one source address can hold to one
// destination address and port: the default ephemeral range 32768–60999.
const portsPerAddress = 28232

// reservedFiles are descriptors the process needs besides connections
// (listeners, stdio, results files, the Go runtime).
const reservedFiles = 64

// Memory estimates, measured on linux/amd64 (BenchmarkIdleRSS,
// BenchmarkPeakRSS, docs/performance.md): an idle client costs the fleet
// 7.9 KiB of RSS, one that sends periodic messages about 0.5 KiB more, and
// more while a herd's garbage waits for collection (the ramp's garbage
// stays within 8% under the limit of memlimit.go); the embedded target's
// end of a connection 17.9 KiB idle and about 30 KiB just after a herd.
// Rounded up, plus the recorder and runtime.
const (
	clientBytes    = 16 << 10
	targetConnByte = 32 << 10
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

// Limits says what share of a run one process carries.
type Limits struct {
	// Segment and Segments: this process runs the clients whose index ≡
	// Segment mod Segments (Segments 0: all of them).
	Segment, Segments int
	// TargetElsewhere says the embedded target runs in other processes
	// (wsstorm serve), so this one holds only the clients' ends.
	TargetElsewhere bool
	// Processes > 1 says every segment runs on this machine (run
	// --processes): they share its ports and memory, which are then checked
	// for the whole fleet, the target's processes included.
	Processes int
}

// CheckLimits says, before anything is dialed, whether this process can hold
// the connections p asks for, and what to change if it cannot.
func CheckLimits(p *profile.Profile, l Limits) error { return checkLimits(p, l, thisMachine()) }

// SegmentClients is how many of n clients segment seg of segs runs.
func SegmentClients(n, seg, segs int) int {
	if segs <= 1 {
		return n
	}
	return (n - seg + segs - 1) / segs
}

func checkLimits(p *profile.Profile, l Limits, m machine) error {
	clients := uint64(SegmentClients(p.Fleet.Clients, l.Segment, l.Segments))
	embedded := p.Target.Mode == profile.ModeEmbedded
	inProcess := embedded && !l.TargetElsewhere
	machineWide := l.Processes > 1
	var problems []string

	if msg := checkPorts(p, l); msg != "" {
		problems = append(problems, msg)
	}

	perClient, side := uint64(1), ""
	if inProcess {
		perClient = 2
		side = " (one for each client and one for the embedded target's end)"
	}
	if need := clients*perClient + reservedFiles; m.filesKnown && need > m.files {
		most := (max(m.files, reservedFiles) - reservedFiles) / perClient
		fix := "raise the limit with `ulimit -n` (the hard limit caps it), or spread the fleet over processes with --processes"
		if inProcess {
			fix = "run the target in a separate process, or " + fix
		}
		problems = append(problems, fmt.Sprintf(
			"%d clients need about %d open files%s, but this process may open %d: set fleet.clients to at most %d, or %s",
			clients, need, side, m.files, most, fix))
	}

	perBytes, memClients := uint64(clientBytes), clients
	if inProcess || machineWide && embedded {
		perBytes += targetConnByte
	}
	if machineWide {
		memClients = uint64(p.Fleet.Clients)
	}
	if need := memClients*perBytes + baseBytes; m.memoryKnown && need > m.memory {
		most := (max(m.memory, baseBytes) - baseBytes) / perBytes
		problems = append(problems, fmt.Sprintf(
			"%d clients need about %d MiB of memory, but %d MiB is available: set fleet.clients to at most %d, or spread the fleet over several machines",
			memClients, need>>20, m.memory>>20, most))
	}

	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrCannotRun, strings.Join(problems, "; "))
}

// checkPorts counts the connections of each (source address, destination)
// pair, each of which has about portsPerAddress ephemeral ports, and says
// how many source addresses the busiest pair needs; "" when they fit. The
// clients counted are this process's, or every segment's when they all run
// on this machine.
func checkPorts(p *profile.Profile, l Limits) string {
	busiest, clients, sources := busiestPair(p, l)
	if busiest <= portsPerAddress {
		return ""
	}
	need := (busiest*sources + portsPerAddress - 1) / portsPerAddress
	if sources > 1 {
		return fmt.Sprintf("%d clients from %d source addresses put up to %d connections on one (source, destination) pair, which has about %d ports: "+
			"set fleet.source_addrs to at least %d addresses (e.g. \"127.0.0.2-127.0.0.%d\" for a loopback target) or lower fleet.clients",
			clients, sources, busiest, portsPerAddress, need, need+1)
	}
	fewer := fmt.Sprintf("set fleet.clients to at most %d per process", portsPerAddress)
	if l.Processes > 1 {
		fewer = fmt.Sprintf("set fleet.clients to at most %d (the processes of one machine share its ports)", portsPerAddress)
	}
	return fmt.Sprintf("%d clients need %d source ports to one target address, but one source address has about %d: "+
		"set fleet.source_addrs to at least %d addresses (e.g. \"127.0.0.2-127.0.0.%d\" for a loopback target), or %s",
		clients, busiest, portsPerAddress, need, need+1, fewer)
}

// slowPorts is how many connections of one (source, destination) pair make
// Linux's search for a free port slow: connect() tries the even ports of
// the range first, and once they are taken each connect costs about seven
// times the CPU (docs/performance.md).
const slowPorts = portsPerAddress / 2

// PortsWarning says, when the busiest (source, destination) pair of p holds
// more than half its ports, that connecting gets slow and how many source
// addresses avoid it; "" otherwise.
func PortsWarning(p *profile.Profile, l Limits) string {
	busiest, clients, sources := busiestPair(p, l)
	if busiest <= slowPorts || busiest > portsPerAddress {
		return ""
	}
	need := (busiest*sources + slowPorts - 1) / slowPorts
	return fmt.Sprintf("up to %d connections share one (source, destination) pair of %d clients: past %d, each connect's search for a free port costs several times the CPU; "+
		"%d source addresses in fleet.source_addrs avoid it", busiest, clients, slowPorts, need)
}

// busiestPair returns the most connections of one (source, destination)
// pair, the clients counted, and the number of source addresses.
func busiestPair(p *profile.Profile, l Limits) (busiest, clients, sources int) {
	first, step := 0, 1
	if l.Segments > 1 && l.Processes <= 1 {
		first, step = l.Segment, l.Segments
	}
	sources = 1
	if addrs, err := profile.ParseSourceAddrs(p.Fleet.SourceAddrs); err == nil && len(addrs) > 0 {
		sources = len(addrs)
	}
	dests := destinations(p)
	counts := map[[2]int]int{}
	for i := first; i < p.Fleet.Clients; i += step {
		k := [2]int{i % sources, dests[i%len(dests)]}
		counts[k]++
		busiest = max(busiest, counts[k])
		clients++
	}
	return busiest, clients, sources
}

// destinations maps client i to the index of its destination address among
// the distinct ones: dests[i % len(dests)]. Every node of the embedded
// target and of the proxy shares one address.
func destinations(p *profile.Profile) []int {
	if p.Target.Mode != profile.ModeExternal || len(p.Target.URLs) == 0 {
		return []int{0}
	}
	ids := map[string]int{}
	out := make([]int, len(p.Target.URLs))
	for i, u := range p.Target.URLs {
		host := u
		if pu, err := neturl.Parse(u); err == nil {
			host = pu.Host
			if pu.Port() == "" {
				host += map[string]string{"ws": ":80", "wss": ":443"}[pu.Scheme]
			}
		}
		if _, ok := ids[host]; !ok {
			ids[host] = len(ids)
		}
		out[i] = ids[host]
	}
	return out
}

// serveHeadroom is the share of a serve process's open-file limit its
// connections may take (the rest absorbs an uneven spread and the herd's
// handshakes in flight).
const serveHeadroom = 0.9

// crowding bounds how many times its even share of the clients one node may
// hold during a rolling restart. Each restarted node's clients spread over
// the others, so a node late in the order gathers more: at worst
// (n/(n-1))^(n-1) times its share (2 for 2 nodes, 2.25 for 3, e for many),
// when no client goes back to a restarted node. Clients do go back to it
// once it is up (the 60,000-client run of docs/performance.md saw 2.0 times
// on 8 nodes), hence the cap.
func crowding(nodes int) float64 {
	if nodes < 2 {
		return 1
	}
	n := float64(nodes)
	return min(math.Pow(n/(n-1), n-1), 2.25)
}

// PlanServes splits the embedded target of p over the fewest wsstorm serve
// processes on this machine that can hold its clients: the nodes of each,
// in order (contiguous node numbers). A process is sized for the worst
// moment of a rolling restart: each of its nodes as crowded as one can get.
func PlanServes(p *profile.Profile) ([]int, error) { return planServes(p, thisMachine()) }

func planServes(p *profile.Profile, m machine) ([]int, error) {
	nodes := p.Target.Nodes
	perNode := float64(p.Fleet.Clients) / float64(nodes) * crowding(nodes)
	files := uint64(1 << 20)
	if m.filesKnown {
		files = m.files
	}
	room := serveHeadroom * float64(max(files, reservedFiles)-reservedFiles)
	for servers := 1; servers <= nodes; servers++ {
		most := (nodes + servers - 1) / servers // nodes of the largest process
		if float64(most)*perNode <= room {
			out := make([]int, servers)
			for s := range out {
				out[s] = nodes / servers
				if s < nodes%servers {
					out[s]++
				}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: %d clients on %d nodes: a node may hold about %.0f connections during a rolling restart, more than a wsstorm serve process that may open %d files should: raise target.nodes, or the open-file limit with `ulimit -n`",
		ErrCannotRun, p.Fleet.Clients, nodes, perNode, files)
}
