package fleet

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/protocol"
)

// Action is what a client does once its connection closed.
type Action int

// Actions. The zero Action is neither, so an unset one shows.
const (
	// Reconnect dials again after the backoff delay.
	Reconnect Action = iota + 1
	// Stop ends the client: its session is over.
	Stop
)

// String returns the name a profile uses for a: "reconnect" or "stop".
func (a Action) String() string {
	switch a {
	case Reconnect:
		return "reconnect"
	case Stop:
		return "stop"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Policy decides from the close code a client observed whether it reconnects.
// The defaults follow RFC 6455 §7.4: 1000 (Normal Closure) stops; 1001, 1006,
// 1011, 1012, 1013 and 1014 reconnect; any other code follows
// on_close_default. A protocol preset's meanings of codes (Centrifugo's
// terminal 3500–3999) come over the defaults, and on_close entries over
// both, code by code, application codes 3000–4999 included.
type Policy struct {
	user     map[int]Action // on_close
	proto    []protocol.CodeRange
	defaults map[int]Action
	other    Action // codes none of the above names
}

// NewPolicy returns the Policy of reconnect settings r and a protocol's
// close codes. It returns an error for an on_close key that is not a close
// code in 1000–4999, or for an action other than "reconnect" or "stop".
func NewPolicy(r profile.Reconnect, codes []protocol.CodeRange) (*Policy, error) {
	p := &Policy{user: map[int]Action{}, proto: codes, defaults: map[int]Action{}, other: Reconnect}
	for code, name := range profile.DefaultOnClose() {
		a, err := parseAction(name)
		if err != nil {
			return nil, fmt.Errorf("the default policy of close code %d: %w", code, err)
		}
		p.defaults[code] = a
	}
	for _, cr := range codes {
		if _, err := parseAction(cr.Then); err != nil {
			return nil, fmt.Errorf("the protocol's close codes %d–%d: %w", cr.From, cr.To, err)
		}
	}
	if r.OnCloseDefault != "" {
		a, err := parseAction(r.OnCloseDefault)
		if err != nil {
			return nil, fmt.Errorf("reconnect on_close_default: %w", err)
		}
		p.other = a
	}
	// Sorted, so that with several bad entries the error is always the same.
	keys := make([]string, 0, len(r.OnClose))
	for k := range r.OnClose {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		code, err := strconv.Atoi(k)
		if err != nil || code < 1000 || code > 4999 {
			return nil, fmt.Errorf("reconnect on_close: key %q is not a close code: want an integer in 1000–4999", k)
		}
		a, err := parseAction(r.OnClose[k])
		if err != nil {
			return nil, fmt.Errorf("reconnect on_close %s: %w", k, err)
		}
		p.user[code] = a
	}
	return p, nil
}

// OnClose returns what a client does after a close with code.
func (p *Policy) OnClose(code int) Action {
	a, _ := p.decide(code)
	return a
}

// User returns what the profile's on_close says of code, if it names it.
func (p *Policy) User(code int) (Action, bool) {
	a, ok := p.user[code]
	return a, ok
}

// StopReason returns the protocol's reason when a close with code stops the
// client because the protocol says so (the profile's on_close did not
// decide it); "" otherwise.
func (p *Policy) StopReason(code int) string {
	if a, reason := p.decide(code); a == Stop {
		return reason
	}
	return ""
}

// decide returns what a client does after a close with code and, when the
// protocol's meaning of the code decided it, the protocol's reason.
func (p *Policy) decide(code int) (Action, string) {
	if a, ok := p.user[code]; ok {
		return a, ""
	}
	if cr := protocol.Of(p.proto, code); cr != nil {
		a, _ := parseAction(cr.Then)
		return a, cr.Reason
	}
	if a, ok := p.defaults[code]; ok {
		return a, ""
	}
	return p.other, ""
}

func parseAction(s string) (Action, error) {
	switch s {
	case "reconnect":
		return Reconnect, nil
	case "stop":
		return Stop, nil
	}
	return 0, fmt.Errorf("action %q is unknown: want \"reconnect\" or \"stop\"", s)
}
