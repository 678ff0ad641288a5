package protocoltest

import (
	"encoding/json"
	"net/http"
	"slices"
)

// cableSession is one connection's subscriptions, keyed by the identifier
// string exactly as the client sent it; only its read loop touches it.
type cableSession struct {
	s    *session
	a    *ActionCable
	subs map[string]bool
}

// cableCommand is what a client sends (connection/subscriptions.rb
// execute_command): identifier and data are JSON encoded as strings.
type cableCommand struct {
	Command    string `json:"command"`
	Identifier string `json:"identifier"`
	Data       string `json:"data"`
}

// handle is the server's call: the handshake, then the connection's open
// (connect, welcome) and its commands.
func (a *ActionCable) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != a.opts.Path {
		http.NotFound(w, r)
		return
	}
	s := a.h.accept(w, r)
	if s == nil {
		return
	}
	a.h.finish(s, a.serve(s, r))
}

// serve opens the connection and reads its commands until it ends. The
// real server buffers commands that come before the welcome and runs them
// after it (connection/message_buffer.rb); reading only after the welcome
// is sent does the same.
func (a *ActionCable) serve(s *session, r *http.Request) error {
	if a.opts.Connect != nil && !a.opts.Connect(r.URL.Query()) {
		a.end(s, "unauthorized", false)
	} else if err := a.welcome(s); err != nil {
		return err
	}
	c := &cableSession{s: s, a: a, subs: map[string]bool{}}
	defer a.forget(s)
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			return err
		}
		if s.ending() {
			continue
		}
		var cmd cableCommand
		if json.Unmarshal(data, &cmd) != nil {
			// The real server logs the decode error and goes on.
			continue
		}
		if err := c.execute(cmd); err != nil {
			return err
		}
	}
}

// welcome sends {"type":"welcome"} and adds the session to the list the
// heartbeat and restart reach (connection/base.rb handle_open).
func (a *ActionCable) welcome(s *session) error {
	a.mu.Lock()
	a.sessions[s] = struct{}{}
	a.mu.Unlock()
	return s.send([]byte(`{"type":"welcome"}`))
}

// execute runs one command as Subscriptions#execute_command does.
func (c *cableSession) execute(cmd cableCommand) error {
	switch cmd.Command {
	case "subscribe":
		return c.subscribe(cmd.Identifier)
	case "unsubscribe":
		if c.subs[cmd.Identifier] {
			delete(c.subs, cmd.Identifier)
			c.a.h.log(Event{Kind: EventLeave, Conn: c.s.id, Client: c.s.client, Topic: channelOf(cmd.Identifier), Reason: "client"})
		}
	case "message":
		if !c.subs[cmd.Identifier] {
			return nil // "Unable to find subscription", logged only
		}
		var data any
		if json.Unmarshal([]byte(cmd.Data), &data) != nil {
			return nil
		}
		msg, err := json.Marshal(struct {
			Identifier string `json:"identifier"`
			Message    any    `json:"message"`
		}{cmd.Identifier, data})
		if err != nil {
			return err
		}
		return c.s.send(msg)
	}
	return nil
}

// subscribe confirms or rejects a subscription: a repeated one is
// ignored, one to a channel that does not exist gets no answer
// (subscriptions.rb add); a rejected one is removed and answered with
// reject_subscription (channel/base.rb reject_subscription).
func (c *cableSession) subscribe(id string) error {
	params := object([]byte(id))
	channel, _ := params["channel"].(string)
	if c.subs[id] || params == nil || (c.a.opts.Channels != nil && !slices.Contains(c.a.opts.Channels, channel)) {
		return nil
	}
	e := Event{Conn: c.s.id, Client: c.s.client, Topic: channel, Params: params}
	kind := "confirm_subscription"
	if c.a.opts.Reject != nil && c.a.opts.Reject(channel, params) {
		e.Kind, e.Reason = EventReject, "rejected"
		kind = "reject_subscription"
	} else {
		e.Kind = EventJoin
		c.subs[id] = true
	}
	c.a.h.log(e)
	msg, err := json.Marshal(struct {
		Identifier string `json:"identifier"`
		Type       string `json:"type"`
	}{id, kind})
	if err != nil {
		return err
	}
	return c.s.send(msg)
}

func channelOf(identifier string) string {
	ch, _ := object([]byte(identifier))["channel"].(string)
	return ch
}
