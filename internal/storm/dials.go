package storm

import (
	"fmt"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// AutoDials is how many dials a process running clients of profile p may
// have in flight when fleet.max_dialing is 0: as many as its open files
// allow. A cap on dials is the generator's, not the clients' (a fleet of
// devices does not queue behind one), and queueing behind it shapes the herd
// the run reports; but a dial needs a file descriptor, two with the
// embedded target in the process (its accepted end), three behind the
// proxy, and a process out of them fails its attempts on its own limit
// (too_many_open_files). So the dials get half the files the held
// connections and the reserve leave (the connections a restart closes
// still hold theirs while their clients dial again), and never more than
// the clients. files is the process's open-file limit (known false: no
// limit is known, and the clients are the cap). Measured on 2 cores with a
// 20,000-file limit (docs/performance.md), 8,000 clients on 2 embedded
// nodes get 984 dials, and their restart herd fails no attempt, where
// 8,000 dials in flight failed thousands with EMFILE.
func AutoDials(p *profile.Profile, clients int, targetElsewhere bool, files uint64, known bool) int {
	per := uint64(filesPerConn(p, targetElsewhere))
	n := uint64(clients)
	if !known {
		return max(clients, 1)
	}
	held := n*per + reservedFiles
	if files <= held {
		return 1
	}
	return int(min(max((files-held)/(2*per), 1), max(n, 1)))
}

// filesPerConn is how many file descriptors one client's connection costs
// this process: its own end, plus the embedded target's accepted end when
// the target runs here, plus the proxy's two when it does.
func filesPerConn(p *profile.Profile, targetElsewhere bool) int {
	switch {
	case p.Target.Mode == profile.ModeEmbedded && !targetElsewhere:
		return 2
	case p.Target.Mode == profile.ModeProxy:
		return 3
	}
	return 1
}

// fewDials is the number of dials in flight under which fleet.max_dialing =
// 0 warns: the clients' herds will queue for them.
const fewDials = 64

// autoDialsText says what fleet.max_dialing = 0 came to, for the run's log:
// a warning when the held connections leave the dials too few files.
func autoDialsText(dials, clients int, files uint64, known bool) string {
	switch {
	case !known:
		return fmt.Sprintf("fleet.max_dialing = 0: up to %d dials in flight (one per client: the open-file limit is not known here)", dials)
	case dials < fewDials && dials < clients:
		return fmt.Sprintf("warning: fleet.max_dialing = 0: the open-file limit, %d, leaves room for only %d dials in flight beside %d clients' connections, so their herds will queue: raise it (ulimit -n), or split the fleet with --processes N",
			files, dials, clients)
	}
	return fmt.Sprintf("fleet.max_dialing = 0: up to %d dials in flight for %d clients (from the open-file limit, %d)", dials, clients, files)
}
