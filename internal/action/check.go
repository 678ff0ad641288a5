package action

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The checks that several actions' keys share, with the messages a user
// sees for them.

// notNegative reports a negative duration at key.
func notNegative(c Checker, key string, d time.Duration) {
	if d < 0 {
		c.Bad(key, "%v is negative: use 0s or more", d)
	}
}

// checkNode reports a node out of the target's range at key.
func checkNode(c Checker, key string, node int) {
	if n := c.Profile().Nodes; n > 0 && (node < 0 || node >= n) {
		c.Bad(key, "%d is out of range: the target has %s%s", node, NodeCount(n), IndexRange(n))
	}
}

// checkCode reports a close code that may not be sent, at key "code". An
// external target's hooks restart real servers, which close their own way:
// there the code is what the clients observe, and 1005 (a close frame
// without a code: Socket.IO's engine at shutdown) or 1006 (no close frame:
// a server killed) are what some of them see.
func checkCode(c Checker, code int) {
	if c.Profile().External && (code == 1005 || code == 1006) {
		return
	}
	if msg := CodeProblem(code); msg != "" {
		c.Bad("code", "%s", msg)
	}
}

// checkReason reports a close reason that does not fit a close frame, at
// key "reason".
func checkReason(c Checker, reason string) {
	if len(reason) > MaxCloseReason {
		c.Bad("reason", "is %d bytes long: a close frame allows at most %d; shorten it", len(reason), MaxCloseReason)
	} else if !utf8.ValidString(reason) {
		c.Bad("reason", "is not valid UTF-8, which a close reason must be")
	}
}

// CodeProblem says why a close code may not be sent, or "" if it may.
// RFC 6455 §7.4 and the IANA registry: 1000–1003 and 1007–1014 are defined,
// 3000–4999 are for libraries and applications, the rest may not be sent.
func CodeProblem(code int) string {
	const fix = "; use 1012 (Service Restart) to restart, 1000 (Normal Closure) to end sessions, or 4000–4999 for your own codes"
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return ""
	case code == 1004:
		return "1004 is reserved by RFC 6455 without a meaning and must not be sent" + fix
	case code == 1005:
		return "1005 stands for a close frame without a status code and must never be sent" + fix
	case code == 1006:
		return "1006 is reserved for a connection lost without a close frame and must never be sent" + fix
	case code == 1015:
		return "1015 is reserved for a failed TLS handshake and must never be sent" + fix
	case code < 1000:
		return fmt.Sprintf("%d is not a close code: codes start at 1000", code) + fix
	case code < 2000:
		return fmt.Sprintf("%d is reserved for future versions of the WebSocket protocol and must not be sent", code) + fix
	case code < 3000:
		return fmt.Sprintf("%d is reserved for WebSocket extensions and must not be sent", code) + fix
	}
	return fmt.Sprintf("%d is not a close code: codes end at 4999", code) + fix
}

// NodeCount writes "1 node" or "n nodes".
func NodeCount(n int) string {
	if n == 1 {
		return "1 node"
	}
	return strconv.Itoa(n) + " nodes"
}

// IndexRange writes " (0 to n-1)", or "" when n is 0.
func IndexRange(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (0 to %d)", n-1)
}
