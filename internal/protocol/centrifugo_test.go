package protocol

import (
	"errors"
	"regexp"
	"testing"

	"github.com/wsstorm/wsstorm/internal/tmpl"
)

// Frames Centrifugo v6.9.1 sent (client.ping_interval 3s), read with a
// plain WebSocket client: replies joined in one frame or sent apart.
const (
	cfConnectReply = `{"id":1,"connect":{"client":"85bdc5cc-dba1-4eab-afcc-d4839350ae03","version":"0.0.0 OSS","ping":3,"pong":true}}`
	cfJoined       = cfConnectReply + "\n" + `{"id":2,"subscribe":{}}` + "\n" + `{"id":3,"subscribe":{}}`
	cfTwoSubs      = `{"id":2,"subscribe":{}}` + "\n" + `{"id":3,"subscribe":{}}`
	cfTokenReply   = `{"id":1,"connect":{"client":"415872c0-c74b-40c5-9287-0ff4e92788bb","version":"0.0.0 OSS","expires":true,"ttl":3600,"ping":3,"pong":true}}`
	cfSubError     = cfConnectReply + "\n" + `{"id":2,"error":{"code":102,"message":"unknown channel"}}`
	cfConnectError = `{"id":1,"error":{"code":109,"message":"token expired"}}`
	cfPing         = `{}`
	cfPublication  = `{"push":{"channel":"news","pub":{"data":{},"offset":2}}}`
)

// TestCentrifugoCommands: the frame of commands the preset sends on
// connecting, as centrifuge-js batches them, and the replies it waits for
// or takes as a refusal, in real frames.
func TestCentrifugoCommands(t *testing.T) {
	p, _ := Lookup("centrifugo")
	for _, tc := range []struct {
		name        string
		set         func(*CentrifugoOptions)
		send        string
		match, not  []string
		reject, acc []string
	}{
		{
			name:   "defaults",
			set:    func(*CentrifugoOptions) {},
			send:   `{"connect":{"name":"js"},"id":1}`,
			match:  []string{cfConnectReply, cfTokenReply, cfJoined},
			not:    []string{cfPing, cfPublication, `{"id":11,"connect":{}}`},
			reject: []string{cfConnectError, cfSubError},
			acc:    []string{cfConnectReply, cfJoined, cfPublication},
		},
		{
			name: "token, data and two channels",
			set: func(o *CentrifugoOptions) {
				o.Token, o.Data, o.Version = "eyJ.a.b", `{"user":{"id":"{{client}}"}}`, "1.0"
				o.Channels = []string{"news", `chat:"x"`}
			},
			send: `{"connect":{"token":"eyJ.a.b","data":{"user":{"id":"{{client}}"}},"name":"js","version":"1.0"},"id":1}` + "\n" +
				`{"subscribe":{"channel":"news","flag":1},"id":2}` + "\n" +
				`{"subscribe":{"channel":"chat:\"x\"","flag":1},"id":3}`,
			match:  []string{cfJoined, cfTwoSubs, `{"id":3,"subscribe":{"recoverable":true}}`},
			not:    []string{cfConnectReply, `{"id":2,"subscribe":{}}`, cfPing, cfPublication},
			reject: []string{cfSubError, cfConnectError},
			acc:    []string{cfJoined, cfTwoSubs},
		},
	} {
		o := p.Options().(*CentrifugoOptions)
		tc.set(o)
		s, err := p.Build(o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.Path != "/connection/websocket" || len(s.Subprotocols) != 0 || len(s.Query) != 0 || s.Frame != nil {
			t.Errorf("%s: URL, subprotocols or framing: %+v", tc.name, s)
		}
		if len(s.Script) != 1 {
			t.Fatalf("%s: script %+v, want one step", tc.name, s.Script)
		}
		st := s.Script[0]
		if st.Send != tc.send {
			t.Errorf("%s: sends\n%s\nwant\n%s", tc.name, st.Send, tc.send)
		}
		checkParses(t, tc.name, st.Send)
		matches(t, tc.name+": expect", st.ExpectRegex, tc.match, tc.not)
		matches(t, tc.name+": reject", st.RejectRegex, tc.reject, tc.acc)
	}
}

// TestCentrifugoPing: the server's ping, alone or in a frame with other
// messages, is answered with {}; nothing else is.
func TestCentrifugoPing(t *testing.T) {
	p, _ := Lookup("centrifugo")
	s, _ := p.Build(p.Options())
	if len(s.Replies) != 1 {
		t.Fatalf("rules %+v, want the ping's alone", s.Replies)
	}
	r := s.Replies[0]
	if r.Send != "{}" || r.Then != Continue {
		t.Errorf("ping rule %+v", r)
	}
	matches(t, "ping", r.Regex,
		[]string{cfPing, cfPublication + "\n{}", "{}\n" + cfPublication},
		[]string{cfPublication, cfConnectReply, `{"push":{"channel":"a","pub":{"data":"{}"}}}`, "{} "})
}

// TestCentrifugoCodes: the close codes as centrifuge's disconnect.go and
// centrifuge-js's onClose read them.
func TestCentrifugoCodes(t *testing.T) {
	p, _ := Lookup("centrifugo")
	s, _ := p.Build(p.Options())
	for code, want := range map[int]string{
		3000: Reconnect, 3001: Reconnect, 3012: Reconnect, 3499: Reconnect,
		3500: Stop + " invalid token", 3503: Stop + " force disconnect", 3509: Stop + " too many errors",
		3510: Stop + " terminal disconnect", 3999: Stop + " terminal disconnect",
		4000: Reconnect, 4499: Reconnect, 4500: Stop + " application terminal disconnect", 4999: Stop + " application terminal disconnect",
		1000: "", 1001: "", 1009: "", 2999: "",
	} {
		got := ""
		if cr := Of(s.Codes, code); cr != nil {
			got = cr.Then
			if cr.Then == Stop {
				got += " " + cr.Reason
			}
		}
		if got != want {
			t.Errorf("close code %d: %q, want %q", code, got, want)
		}
	}
}

// TestCentrifugoBadOptions: each bad option is an OptionError of its key.
func TestCentrifugoBadOptions(t *testing.T) {
	p, _ := Lookup("centrifugo")
	for key, set := range map[string]func(*CentrifugoOptions){
		"path":     func(o *CentrifugoOptions) { o.Path = "connection/websocket" },
		"data":     func(o *CentrifugoOptions) { o.Data = "user=1" },
		"channels": func(o *CentrifugoOptions) { o.Channels = []string{"a", "a"} },
	} {
		o := p.Options().(*CentrifugoOptions)
		set(o)
		_, err := p.Build(o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Key != key || oe.Msg == "" {
			t.Errorf("%s: error %v, want an OptionError of %s", key, err, key)
		}
	}
	o := p.Options().(*CentrifugoOptions)
	o.Channels = []string{""}
	if _, err := p.Build(o); err == nil {
		t.Error("an empty channel builds")
	}
}

// matches checks that regular expression re matches each of yes and none
// of no.
func matches(t *testing.T, what, re string, yes, no []string) {
	t.Helper()
	rx, err := regexp.Compile(re)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, m := range yes {
		if !rx.MatchString(m) {
			t.Errorf("%s: %q does not match\n%s", what, re, m)
		}
	}
	for _, m := range no {
		if rx.MatchString(m) {
			t.Errorf("%s: %q matches\n%s", what, re, m)
		}
	}
}

// clientVars are the variables of a client's messages (profile.ClientVars,
// which this package cannot import).
var clientVars = []string{"client", "session", "key", "uuid", "seq"}

// checkParses checks that the fleet's template parser takes msg.
func checkParses(t *testing.T, what, msg string) {
	t.Helper()
	if _, err := tmpl.Parse(msg, clientVars); err != nil {
		t.Errorf("%s: %q is no template: %v", what, msg, err)
	}
}
