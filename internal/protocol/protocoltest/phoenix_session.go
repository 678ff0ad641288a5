package protocoltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// maxChannels is Phoenix's :max_channels_per_transport default (phoenix
// v1.8.12 lib/phoenix/socket.ex user_connect).
const maxChannels = 100

var errMalformed = errors.New("protocoltest: malformed Phoenix message")

// phoenixSession is one socket's channels. The V2 JSON serializer's
// messages are arrays [join_ref, ref, topic, event, payload], and a reply
// is [join_ref, ref, topic, "phx_reply", {"status": ..., "response": ...}]
// (phoenix v1.8.12 lib/phoenix/socket/serializers/v2_json_serializer.ex).
type phoenixSession struct {
	s *session
	p *Phoenix
	// joined maps a topic to the join_ref it was joined with; guarded by
	// p.mu.
	joined map[string]json.RawMessage
}

type phoenixReply struct {
	Status   string `json:"status"`
	Response any    `json:"response"`
}

// handle answers one message, as Phoenix.Socket's handle_in clauses do
// (phoenix v1.8.12 lib/phoenix/socket.ex).
func (c *phoenixSession) handle(data []byte) error {
	var m []json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || len(m) != 5 {
		return errMalformed
	}
	joinRef, ref, payload := m[0], m[1], m[4]
	var topic, event string
	if json.Unmarshal(m[2], &topic) != nil || json.Unmarshal(m[3], &event) != nil {
		return errMalformed
	}
	switch {
	case topic == "phoenix" && event == "heartbeat":
		// The heartbeat's reply has no join_ref.
		c.p.h.log(Event{Kind: EventHeartbeat, Conn: c.s.id, Client: c.s.client, Topic: topic})
		return c.reply(nil, ref, topic, "ok", struct{}{})
	case event == "phx_join":
		return c.join(joinRef, ref, topic, payload)
	case event == "phx_leave":
		return c.leave(joinRef, ref, topic)
	default:
		return c.push(joinRef, ref, topic, payload)
	}
}

// join answers phx_join: "unmatched topic" for a topic no channel routes
// (without join_ref), a duplicate join closes the earlier one first with
// phx_close, then the channel's join decides.
func (c *phoenixSession) join(joinRef, ref json.RawMessage, topic string, payload json.RawMessage) error {
	params := object(payload)
	e := Event{Conn: c.s.id, Client: c.s.client, Topic: topic, Params: params}
	if !c.p.routes(topic) {
		e.Kind, e.Reason = EventReject, "unmatched topic"
		c.p.h.log(e)
		return c.reply(nil, ref, topic, "error", map[string]any{"reason": e.Reason})
	}
	c.p.mu.Lock()
	old, dup := c.joined[topic]
	delete(c.joined, topic)
	full := len(c.joined) >= maxChannels
	c.p.mu.Unlock()
	if dup {
		c.p.h.log(Event{Kind: EventLeave, Conn: c.s.id, Client: c.s.client, Topic: topic, Reason: "duplicate join"})
		if err := c.close(old, topic); err != nil {
			return err
		}
	}
	var rejected map[string]any
	switch {
	case full:
		rejected = map[string]any{"reason": "too many channels joined"}
	case c.p.opts.Join != nil:
		rejected = c.p.opts.Join(topic, params)
	}
	if rejected != nil {
		e.Kind, e.Reason = EventReject, reasonOf(rejected)
		c.p.h.log(e)
		return c.reply(joinRef, ref, topic, "error", rejected)
	}
	// Joined before the reply leaves, so that a client that has seen it
	// is drained as joined.
	c.p.mu.Lock()
	c.joined[topic] = joinRef
	c.p.mu.Unlock()
	e.Kind = EventJoin
	c.p.h.log(e)
	return c.reply(joinRef, ref, topic, "ok", struct{}{})
}

// leave answers phx_leave: the channel replies ok and stops, and the
// socket then pushes phx_close; a leave of a topic not joined is answered
// ok; one with a stale join_ref has raced a close and is ignored.
func (c *phoenixSession) leave(joinRef, ref json.RawMessage, topic string) error {
	c.p.mu.Lock()
	jr, ok := c.joined[topic]
	current := ok && (isNull(joinRef) || bytes.Equal(jr, joinRef))
	if current {
		delete(c.joined, topic)
	}
	c.p.mu.Unlock()
	switch {
	case !ok:
		return c.reply(joinRef, ref, topic, "ok", struct{}{})
	case !current:
		return nil
	}
	c.p.h.log(Event{Kind: EventLeave, Conn: c.s.id, Client: c.s.client, Topic: topic, Reason: "client"})
	if err := c.reply(jr, ref, topic, "ok", struct{}{}); err != nil {
		return err
	}
	return c.close(jr, topic)
}

// push answers any other event: the joined channel echoes the payload as
// its reply; a topic not joined gets "unmatched topic"; a message for an
// earlier join of the topic is ignored.
func (c *phoenixSession) push(joinRef, ref json.RawMessage, topic string, payload json.RawMessage) error {
	c.p.mu.Lock()
	jr, ok := c.joined[topic]
	c.p.mu.Unlock()
	switch {
	case !ok:
		return c.reply(nil, ref, topic, "error", map[string]any{"reason": "unmatched topic"})
	case !isNull(joinRef) && !bytes.Equal(jr, joinRef):
		return nil
	}
	return c.reply(jr, ref, topic, "ok", payload)
}

func (c *phoenixSession) reply(joinRef, ref json.RawMessage, topic, status string, response any) error {
	msg, err := json.Marshal([]any{joinRef, ref, topic, "phx_reply", phoenixReply{status, response}})
	if err != nil {
		return err
	}
	return c.s.send(msg)
}

// close pushes phx_close for the join joinRef, as the socket does when a
// channel stops (encode_close: join_ref and ref are both the join_ref).
func (c *phoenixSession) close(joinRef json.RawMessage, topic string) error {
	msg, err := json.Marshal([]any{joinRef, joinRef, topic, "phx_close", struct{}{}})
	if err != nil {
		return err
	}
	return c.s.send(msg)
}

// routes reports whether a channel is mounted for topic.
func (p *Phoenix) routes(topic string) bool {
	if p.opts.Channels == nil {
		return true
	}
	for _, pat := range p.opts.Channels {
		if prefix, wild := strings.CutSuffix(pat, "*"); (wild && strings.HasPrefix(topic, prefix)) || pat == topic {
			return true
		}
	}
	return false
}

// object decodes a JSON object; nil if raw is not one.
func object(raw []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// reasonOf is a rejection's "reason", for the log.
func reasonOf(response map[string]any) string {
	if r, ok := response["reason"].(string); ok {
		return r
	}
	return "rejected"
}
