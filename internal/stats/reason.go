package stats

import "strconv"

// Reason says why a connect attempt failed.
type Reason int

// The failure reasons; an HTTP status s is Reason(httpBase + s), see HTTPStatus.
const (
	Refused       Reason = iota + 1 // connection refused
	Timeout                         // dial or handshake timed out
	Reset                           // connection reset or closed during the handshake
	TLS                             // TLS handshake or certificate failure
	Other                           // anything else
	BadHandshake                    // a 101 answer that is not a valid WebSocket handshake
	Cancelled                       // still in flight when the run ended
	ScriptTimeout                   // the session script's expected message did not come in time
	httpBase      Reason = 1000
)

// HTTPStatus returns the reason for a handshake answered with an HTTP status
// other than 101.
func HTTPStatus(status int) Reason { return httpBase + Reason(status) }

// String returns the reason as results files spell it: refused, timeout,
// reset, tls, bad_handshake, cancelled, script_timeout, other or
// http_<status>.
func (r Reason) String() string {
	switch r {
	case Refused:
		return "refused"
	case Timeout:
		return "timeout"
	case Reset:
		return "reset"
	case TLS:
		return "tls"
	case Other:
		return "other"
	case BadHandshake:
		return "bad_handshake"
	case Cancelled:
		return "cancelled"
	case ScriptTimeout:
		return "script_timeout"
	}
	if r > httpBase {
		return "http_" + strconv.Itoa(int(r-httpBase))
	}
	return "other"
}
