package profile

import (
	"cmp"
	"strconv"

	"github.com/wsstorm/wsstorm/internal/protocol"
)

// DefaultOnClose is what a compliant client does after the close codes RFC
// 6455 §7.4 settles, before a profile's on_close: 1000 ends the session,
// the codes of a server going away or failing bring the client back. The
// fleet's policy starts from it, and the profile's checks read it through
// Fleet.OnCloseOf, so the two cannot disagree.
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

// OnCloseOf returns what a client of f does after a close with code:
// OnCloseReconnect or OnCloseStop, from reconnect.on_close, else from what
// the protocol preset says the code means, else DefaultOnClose, else
// on_close_default (reconnect when empty).
func (f *Fleet) OnCloseOf(code int) string {
	r := f.Reconnect
	if a, ok := r.OnClose[strconv.Itoa(code)]; ok {
		return a
	}
	if cr := protocol.Of(f.ProtocolCodes(), code); cr != nil {
		return cr.Then
	}
	if a, ok := DefaultOnClose()[code]; ok {
		return a
	}
	return cmp.Or(r.OnCloseDefault, OnCloseReconnect)
}

// ProtocolCodes are what the protocol preset says close codes mean; nil
// without a preset.
func (f *Fleet) ProtocolCodes() []protocol.CodeRange {
	if f.ProtocolOptions.Spec == nil {
		return nil
	}
	return f.ProtocolOptions.Spec.Codes
}
