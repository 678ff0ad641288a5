package profile

import (
	"cmp"
	"strconv"
)

// DefaultOnClose is what a compliant client does after the close codes RFC
// 6455 §7.4 settles, before a profile's on_close: 1000 ends the session,
// the codes of a server going away or failing bring the client back. The
// fleet's policy starts from it, and the profile's checks read it through
// OnCloseOf, so the two cannot disagree.
func DefaultOnClose() map[int]string {
	return map[int]string{
		1000: OnCloseStop,      // Normal Closure
		1001: OnCloseReconnect, // Going Away
		1006: OnCloseReconnect, // no close frame; never on the wire
		1011: OnCloseReconnect, // Internal Error
		1012: OnCloseReconnect, // Service Restart
		1013: OnCloseReconnect, // Try Again Later
		1014: OnCloseReconnect, // Bad Gateway
	}
}

// OnCloseOf returns what a client does after a close with code:
// OnCloseReconnect or OnCloseStop, from on_close, else DefaultOnClose,
// else on_close_default (reconnect when empty).
func (r Reconnect) OnCloseOf(code int) string {
	if a, ok := r.OnClose[strconv.Itoa(code)]; ok {
		return a
	}
	if a, ok := DefaultOnClose()[code]; ok {
		return a
	}
	return cmp.Or(r.OnCloseDefault, OnCloseReconnect)
}
