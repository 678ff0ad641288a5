package fleet

import (
	"bytes"
	"fmt"
	"regexp"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/protocol"
)

// Reply is a rule that runs for the life of a connection: a server message
// that matches it (Equals exactly, or containing Contains, or matching
// Regex) is answered with Send, if any, then the session does what Then
// says. See protocol.Reply, whose fields a profile writes.
type Reply struct {
	Name     string
	Equals   []byte // nil: not matched this way
	Contains []byte // nil: not matched this way
	Regex    *regexp.Regexp
	Send     string // a template as Config.Message; "": no reply
	Then     Then
}

// Then is what a server message that a Reply matches means for the session.
type Then int

// The reactions of a Reply.
const (
	Continue       Then = iota // answer, if the rule does, and go on
	StopSession                // the server ended the session: the client stops
	ReconnectAfter             // the server sent the client away: it comes back after its reconnect delay
	ReconnectNow               // as ReconnectAfter, at once
)

// parseThen reads a protocol.Reply's Then.
func parseThen(s string) (Then, error) {
	switch s {
	case protocol.Continue:
		return Continue, nil
	case protocol.Stop:
		return StopSession, nil
	case protocol.Reconnect:
		return ReconnectAfter, nil
	case protocol.ReconnectNow:
		return ReconnectNow, nil
	}
	return 0, fmt.Errorf("then %q: want \"stop\", \"reconnect\", \"reconnect_now\" or nothing", s)
}

// replyFromProfile compiles a protocol.Reply.
func replyFromProfile(r protocol.Reply) (Reply, error) {
	then, err := parseThen(r.Then)
	if err != nil {
		return Reply{}, err
	}
	out := Reply{Name: r.Name, Send: r.Send, Then: then}
	switch {
	case r.Equals != "":
		out.Equals = []byte(r.Equals)
	case r.Contains != "":
		out.Contains = []byte(r.Contains)
	case r.Regex != "":
		if out.Regex, err = regexp.Compile(r.Regex); err != nil {
			return Reply{}, fmt.Errorf("regex: %w", err)
		}
	default:
		return Reply{}, fmt.Errorf("matches nothing: give it equals, contains or regex")
	}
	return out, nil
}

// matches says whether the rule matches msg.
func (r *Reply) matches(msg []byte) bool {
	switch {
	case r.Equals != nil:
		return bytes.Equal(msg, r.Equals)
	case r.Contains != nil:
		return bytes.Contains(msg, r.Contains)
	}
	return r.Regex.Match(msg)
}

// replyRule is a Reply ready to run.
type replyRule struct {
	Reply
	send template
}

// replies are a fleet's reply rules, in order: the first that matches a
// message wins.
type replies struct {
	rules []replyRule
	// bufs lends the read loop a buffer for a whole message while the rules
	// look at it: an idle connection holds none.
	bufs sync.Pool
}

// newReplies compiles the rules; nil when there are none, so that a fleet
// without rules reads as it always did.
func newReplies(rs []Reply) (*replies, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	out := &replies{}
	for i, r := range rs {
		rr := replyRule{Reply: r}
		if r.Send != "" {
			t, err := parseTemplate(r.Send)
			if err != nil {
				return nil, fmt.Errorf("reply %d (%s): send: %w", i, r.Name, err)
			}
			rr.send = t
		}
		out.rules = append(out.rules, rr)
	}
	return out, nil
}

// maxPooled is the largest buffer returned to the pool: one that held a
// server's large push is let go, not kept for every later message.
const maxPooled = 64 << 10

// buffer lends an empty buffer.
func (rs *replies) buffer() *bytes.Buffer {
	b, _ := rs.bufs.Get().(*bytes.Buffer)
	if b == nil {
		return new(bytes.Buffer)
	}
	b.Reset()
	return b
}

// release takes a lent buffer back.
func (rs *replies) release(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		rs.bufs.Put(b)
	}
}

// match returns the first rule that matches msg, or nil.
func (rs *replies) match(msg []byte) *replyRule {
	for i := range rs.rules {
		if rs.rules[i].matches(msg) {
			return &rs.rules[i]
		}
	}
	return nil
}

// protoEnd is how a server message ended a session: the rule's reaction and
// its name, the reason it is counted under.
type protoEnd struct {
	then   Then
	reason string
}

// answer sends rule's reply on conn, if it has one, as message seq of
// session; the caller holds whatever serializes the connection's writes.
func (c *client) answer(conn *websocket.Conn, rule *replyRule, session, seq int64, buf []byte) ([]byte, error) {
	if rule.Send == "" {
		return buf, nil
	}
	buf = rule.send.append(buf[:0], c.values(session, seq))
	return buf, c.write(conn, websocket.TextMessage, buf)
}
