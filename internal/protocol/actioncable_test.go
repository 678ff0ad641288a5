package protocol

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func buildCable(t *testing.T, set func(*ActionCableOptions)) Spec {
	t.Helper()
	p, _ := Lookup("actioncable")
	o := p.Options().(*ActionCableOptions)
	set(o)
	s, err := p.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	checkSpec(t, "actioncable", s)
	return s
}

// TestActionCableWelcome: the mount path, the subprotocols
// @rails/actioncable offers, and the welcome waited for, as Rails and
// AnyCable write it.
func TestActionCableWelcome(t *testing.T) {
	s := buildCable(t, func(*ActionCableOptions) {})
	if s.Path != "/cable" || len(s.Query) != 0 || strings.Join(s.Subprotocols, ",") != "actioncable-v1-json,actioncable-unsupported" {
		t.Errorf("URL parts %q %v %v", s.Path, s.Query, s.Subprotocols)
	}
	if len(s.Script) != 1 || s.Script[0].Send != "" || s.Heartbeat.Interval != 0 || len(s.Codes) != 0 || s.Frame != nil {
		t.Fatalf("spec %+v: want the welcome alone", s)
	}
	welcome := regexp.MustCompile(s.Script[0].ExpectRegex)
	for msg, want := range map[string]bool{
		`{"type":"welcome"}`:                   true,
		`{"type":"welcome","sid":"x1"}`:        true,
		`{"type":"welcomed"}`:                  false,
		`{"type":"ping","message":1754000000}`: false,
		`{"identifier":"{\"channel\":\"C\"}","message":{"type":"welcome"}}`: false,
	} {
		if welcome.MatchString(msg) != want {
			t.Errorf("welcome regex on %s: want %v", msg, want)
		}
	}
}

// TestActionCableSubscribe: the subscribe command as @rails/actioncable
// writes it (JSON.stringify of {command, identifier}, the identifier
// JSON.stringify of {channel, ...params}), and the answers to it, as Rails
// (identifier first, <>& escaped) and AnyCable (type first) write them.
func TestActionCableSubscribe(t *testing.T) {
	s := buildCable(t, func(o *ActionCableOptions) { o.Channel, o.Params = "ChatChannel", `{"room":"<lobby> & co","n":2}` })
	if len(s.Script) != 2 {
		t.Fatalf("script %+v", s.Script)
	}
	st := s.Script[1]
	if want := `{"command":"subscribe","identifier":"{\"channel\":\"ChatChannel\",\"room\":\"<lobby> & co\",\"n\":2}"}`; st.Send != want {
		t.Errorf("subscribe %s\nwant %s", st.Send, want)
	}
	confirm, reject := regexp.MustCompile(st.ExpectRegex), regexp.MustCompile(st.RejectRegex)
	const (
		id      = `"{\"channel\":\"ChatChannel\",\"room\":\"<lobby> & co\",\"n\":2}"`
		escaped = `"{\"channel\":\"ChatChannel\",\"room\":\"\u003clobby\u003e \u0026 co\",\"n\":2}"`
		other   = `"{\"channel\":\"ChatChannel\",\"room\":\"<lobby> & co\",\"n\":3}"`
	)
	for _, tc := range []struct {
		msg              string
		confirms, reject bool
	}{
		{msg: `{"identifier":` + escaped + `,"type":"confirm_subscription"}`, confirms: true},
		{msg: `{"identifier":` + id + `,"type":"confirm_subscription"}`, confirms: true},
		{msg: `{"type":"confirm_subscription","identifier":` + escaped + `}`, confirms: true},
		{msg: `{"identifier":` + escaped + `,"type":"reject_subscription"}`, reject: true},
		{msg: `{"type":"reject_subscription","identifier":` + id + `}`, reject: true},
		{msg: `{"identifier":` + other + `,"type":"confirm_subscription"}`},
		{msg: `{"identifier":` + id + `,"message":{"type":"confirm_subscription"}}`},
		{msg: `{"type":"ping","message":1754000000}`},
	} {
		if confirm.MatchString(tc.msg) != tc.confirms || reject.MatchString(tc.msg) != tc.reject {
			t.Errorf("%s: confirms %v, rejects %v; want %v, %v", tc.msg, confirm.MatchString(tc.msg), reject.MatchString(tc.msg), tc.confirms, tc.reject)
		}
	}
}

// TestActionCableIdentifier: the identifier's value is JSON.stringify's,
// key order included (array indexes first), and the command keeps clear of
// the templates' braces as they are (nested JSON is text to them); the confirmation, which has the
// braces as they are, matches whatever a template renders to.
func TestActionCableIdentifier(t *testing.T) {
	s := buildCable(t, func(o *ActionCableOptions) {
		o.Channel, o.Params = "Chat", `{"user":{"id":"{{client}}","tags":[1.50,{}]},"2":true}`
	})
	st := s.Script[1]
	var cmd struct{ Command, Identifier string }
	if err := json.Unmarshal([]byte(st.Send), &cmd); err != nil {
		t.Fatal(err)
	}
	// JSON.stringify({channel: "Chat", ...JSON.parse(params)}) in node 20.
	if want := `{"2":true,"channel":"Chat","user":{"id":"{{client}}","tags":[1.5,{}]}}`; cmd.Command != "subscribe" || cmd.Identifier != want {
		t.Errorf("command %+v, want identifier %s", cmd, want)
	}
	if err := checkTemplate(st.Send); err != nil {
		t.Errorf("subscribe %s: %v", st.Send, err)
	}
	confirm := regexp.MustCompile(st.ExpectRegex)
	msg := `{"identifier":"{\"2\":true,\"channel\":\"Chat\",\"user\":{\"id\":\"17\",\"tags\":[1.5,{}]}}","type":"confirm_subscription"}`
	if !confirm.MatchString(msg) {
		t.Errorf("confirm regex %s does not match %s", st.ExpectRegex, msg)
	}
}

// TestActionCableDisconnect: the disconnect message stops the client or
// sends it away to come back, as its reconnect flag says, counted by its
// reason; other messages go by.
func TestActionCableDisconnect(t *testing.T) {
	s := buildCable(t, func(*ActionCableOptions) {})
	for _, tc := range []struct{ msg, name, then string }{
		{`{"type":"disconnect","reason":"server_restart","reconnect":true}`, "actioncable disconnect: server_restart", Reconnect},
		{`{"type":"disconnect","reason":"invalid_request","reconnect":true}`, "actioncable disconnect: invalid_request", Reconnect},
		{`{"type":"disconnect","reason":"remote","reconnect":true}`, "actioncable disconnect: remote", Reconnect},
		{`{"type":"disconnect","reason":"remote","reconnect":false}`, "actioncable disconnect: remote", Stop},
		{`{"type":"disconnect","reason":"unauthorized","reconnect":false}`, "actioncable disconnect: unauthorized", Stop},
		{`{"type":"disconnect","reason":"unauthorized"}`, "actioncable disconnect: unauthorized", Stop},
		{`{"type":"disconnect","reason":"idle_timeout","reconnect":true}`, "actioncable disconnect: idle_timeout", Reconnect},
		{`{"type":"disconnect","reason":null,"reconnect":true}`, "actioncable disconnect", Reconnect},
		{`{"type":"disconnect","reason":"banned","reconnect":false}`, "actioncable disconnect", Stop},
		{`{"type":"disconnect","reason":"say \"reconnect\":true","reconnect":false}`, "actioncable disconnect", Stop},
		{`{"type":"disconnect"}`, "actioncable disconnect", Stop},
		{`{"type":"ping","message":1754000000}`, "", ""},
		{`{"type":"welcome"}`, "", ""},
		{`{"identifier":"{\"channel\":\"C\"}","message":{"type":"disconnect","reason":"remote","reconnect":false}}`, "", ""},
	} {
		r := firstRule(s.Replies, tc.msg)
		switch {
		case r == nil && tc.name != "":
			t.Errorf("%s: no rule, want %s (%s)", tc.msg, tc.name, tc.then)
		case r != nil && (r.Name != tc.name || r.Then != tc.then || r.Send != ""):
			t.Errorf("%s: rule %+v, want %s (%s), no reply", tc.msg, *r, tc.name, tc.then)
		}
	}
}

// firstRule is the first of rs whose regex matches msg, as the fleet picks.
func firstRule(rs []Reply, msg string) *Reply {
	for i := range rs {
		if regexp.MustCompile(rs[i].Regex).MatchString(msg) {
			return &rs[i]
		}
	}
	return nil
}

// TestActionCableBadOptions: each bad option is an OptionError of its key.
func TestActionCableBadOptions(t *testing.T) {
	p, _ := Lookup("actioncable")
	for _, tc := range []struct {
		key string
		set func(*ActionCableOptions)
	}{
		{"mount_path", func(o *ActionCableOptions) { o.MountPath = "cable" }},
		{"channel", func(o *ActionCableOptions) { o.Channel = "Chat{client}}" }},
		{"params", func(o *ActionCableOptions) { o.Channel, o.Params = "Chat", "room=1" }},
		{"params", func(o *ActionCableOptions) { o.Channel, o.Params = "Chat", `{"channel":"Other"}` }},
		{"params", func(o *ActionCableOptions) { o.Channel, o.Params = "Chat", `{"n":1e999}` }},
		{"params", func(o *ActionCableOptions) { o.Params = `{"room":"1"}` }},
	} {
		o := p.Options().(*ActionCableOptions)
		tc.set(o)
		_, err := p.Build(o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Key != tc.key || strings.TrimSpace(oe.Msg) == "" {
			t.Errorf("%+v: error %v, want an OptionError of %s", *o, err, tc.key)
		}
	}
}

// TestJSONLikeJavaScript: values are written as node 20's
// JSON.stringify(JSON.parse(s)) writes them.
func TestJSONLikeJavaScript(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":1.50,"2":true,"a":{"x":[1,{}]},"1":null,"b":"<é>"}`:                                            `{"1":null,"2":true,"b":"<é>","a":{"x":[1,{}]}}`,
		`{"n":1e21,"m":1e-7,"k":123456789012345678901234,"z":-0,"q":0.000001,"r":1e20,"s":-12.5e-9,"t":100}`: `{"n":1e+21,"m":1e-7,"k":1.2345678901234569e+23,"z":0,"q":0.000001,"r":100000000000000000000,"s":-1.25e-8,"t":100}`,
		`{"s":"quote\" back\\ nl\n tab\t ctl\u0001 ls\u2028 😀"}`:                                             "{\"s\":\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 ls\u2028 😀\"}",
		`{"4294967295":1,"4294967294":2,"01":3,"10":4,"9":5}`:                                                `{"9":5,"10":4,"4294967294":2,"4294967295":1,"01":3}`,
	} {
		v, err := parseJSObject(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.stringify(exactJSON); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
}
