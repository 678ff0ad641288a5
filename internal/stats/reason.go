package stats

import (
	"strconv"
	"strings"
)

// Reason says why a connect attempt failed.
type Reason int

// The failure reasons; an HTTP status s is Reason(httpBase + s), see HTTPStatus.
const (
	Refused          Reason = iota + 1 // connection refused
	Timeout                            // dial or handshake timed out
	Reset                              // connection reset or closed during the handshake
	TLS                                // TLS handshake or certificate failure
	Other                              // anything else
	BadHandshake                       // a 101 answer that is not a valid WebSocket handshake
	Cancelled                          // still in flight when the run ended
	ScriptTimeout                      // the session script's expected message did not come in time
	NoSourcePort                       // no local port left for the source address (EADDRNOTAVAIL)
	TooManyOpenFiles                   // the process or the system had no file descriptor left (EMFILE, ENFILE)
	Unreachable                        // no route to the target's network or host (ENETUNREACH, EHOSTUNREACH)
	DNS                                // the target's name did not resolve
	Rejected                           // the session script's step got the server's refusal (its reject)
	httpBase         Reason = 1000
)

// reasonNames spells each named reason as results files and thresholds do:
// the one list of them. It is never written to.
var reasonNames = [...]string{
	Refused:          "refused",
	Timeout:          "timeout",
	Reset:            "reset",
	TLS:              "tls",
	Other:            "other",
	BadHandshake:     "bad_handshake",
	Cancelled:        "cancelled",
	ScriptTimeout:    "script_timeout",
	NoSourcePort:     "no_source_port",
	TooManyOpenFiles: "too_many_open_files",
	Unreachable:      "unreachable",
	DNS:              "dns",
	Rejected:         "rejected",
}

// HTTPStatus returns the reason for a handshake answered with an HTTP status
// other than 101.
func HTTPStatus(status int) Reason { return httpBase + Reason(status) }

// String returns the reason as results files spell it: refused, timeout,
// reset, tls, bad_handshake, cancelled, script_timeout, no_source_port,
// too_many_open_files, unreachable, dns, rejected, other or http_<status>.
func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	if r > httpBase {
		return "http_" + strconv.Itoa(int(r-httpBase))
	}
	return "other"
}

// ParseReason returns the reason that name spells, as String spells it,
// and whether it is one: a named reason, or http_<status> for a status from
// 100 to 599 written with three digits.
func ParseReason(name string) (Reason, bool) {
	for r, n := range reasonNames {
		if n != "" && n == name {
			return Reason(r), true
		}
	}
	if s, ok := strings.CutPrefix(name, "http_"); ok && len(s) == 3 && s[0] >= '1' && s[0] <= '5' {
		if status, err := strconv.Atoi(s); err == nil { // three digits: the first is one
			return HTTPStatus(status), true
		}
	}
	return 0, false
}
