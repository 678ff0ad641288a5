package profile

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/protocol"
)

const sioProfile = external + `[fleet]
protocol = "socket.io"
[fleet.protocol_options]
namespace = "/chat"
auth = '{"token":"${WS_TOKEN}"}'
`

// TestProtocolOptions: a preset's options decode into its option struct,
// the others at their defaults, ${NAME} expanded, and the preset's session
// parts are built; the effective profile shows the options, the secret
// redacted.
func TestProtocolOptions(t *testing.T) {
	p, err := parse([]byte(sioProfile), "p.toml", []string{"fleet.protocol_options.event=chat"}, testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := p.Fleet.ProtocolOptions.Params.(*protocol.SocketIOOptions)
	if !ok {
		t.Fatalf("options %T, want *protocol.SocketIOOptions", p.Fleet.ProtocolOptions.Params)
	}
	want := protocol.SocketIOOptions{Path: "/socket.io/", Namespace: "/chat", Auth: `{"token":"` + token + `"}`, Event: "chat"}
	if *o != want {
		t.Errorf("options %+v, want %+v", *o, want)
	}
	if p.Fleet.Session.SendInterval.D() != 0 {
		t.Errorf("send_interval %v: with a preset and no message, the default is no periodic messages", p.Fleet.Session.SendInterval)
	}
	spec := p.Fleet.ProtocolOptions.Spec
	if spec == nil || spec.Script[1].Send != `40/chat,{"token":"`+token+`"}` {
		t.Fatalf("spec %+v", spec)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, token) || !strings.Contains(out, `namespace = "/chat"`) || !strings.Contains(out, `protocol = "socket.io"`) || !strings.Contains(out, `event = "chat"`) {
		t.Errorf("effective profile:\n%s", out)
	}
	// The effective profile loads back, to the same options (its secret
	// aside).
	q, err := parse(b.Bytes(), "q.toml", nil, testEnv(vars))
	if err != nil {
		t.Fatalf("the effective profile does not load: %v\n%s", err, out)
	}
	if got := q.Fleet.ProtocolOptions.Params.(*protocol.SocketIOOptions); got.Namespace != "/chat" || got.Event != "chat" {
		t.Errorf("reloaded options %+v", got)
	}
	// A profile without a preset has no options table nor protocol key.
	p, err = parse([]byte(external), "p.toml", nil, testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	_ = p.WriteTOML(&b)
	if strings.Contains(b.String(), "protocol") || strings.Contains(b.String(), "heartbeat") {
		t.Errorf("effective profile without a preset:\n%s", b.String())
	}
}

// TestProtocolErrors: what is wrong with a preset, its options, reply rules
// and a heartbeat is said at the key, with what to write.
func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name, src string
		sets      []string
		want      string
	}{
		{"unknown preset", external + "[fleet]\nprotocol = \"socketio\"", nil,
			`p.toml:5: fleet.protocol: "socketio" is not a protocol preset (did you mean "socket.io"?)`},
		{"embedded target", "[fleet]\nprotocol = \"socket.io\"", nil,
			`p.toml:2: fleet.protocol: socket.io needs a server that speaks it, and the embedded target speaks no protocol: set target.mode = "external" with the server's URL, or "proxy" in front of it`},
		{"options without a preset", external + "[fleet.protocol_options]\nnamespace = \"/x\"", nil,
			`p.toml:5: fleet.protocol_options.namespace: is a protocol option, and fleet.protocol is not set: name the protocol (` + strings.Join(protocol.Names(), ", ") + `), or remove [fleet.protocol_options]`},
		{"unknown option", sioProfile + "namespce = \"/x\"", nil,
			`p.toml:9: fleet.protocol_options.namespce: unknown option of protocol socket.io (did you mean fleet.protocol_options.namespace?)`},
		{"wrong type", sioProfile + "event = [1]", nil,
			`p.toml:9: fleet.protocol_options.event: expected a string, found an array: put it in quotes`},
		{"bad value", sioProfile, []string{"fleet.protocol_options.namespace=chat"},
			`--set fleet.protocol_options.namespace: "chat" is not a namespace: write "/" or "/name", without commas`},
		{"missing secret", external + "[fleet]\nprotocol = \"socket.io\"\n[fleet.protocol_options]\nauth = '{\"t\":\"${NOPE}\"}'", nil,
			`p.toml:7: fleet.protocol_options.auth: ${NOPE} is not set: export NOPE before the run`},
		{"rule without a matcher", external + "[[fleet.session.reply]]\nsend = \"3\"", nil,
			`p.toml:4: fleet.session.reply.0: matches nothing: a rule matches a message by equals = "...", contains = "..." or regex = "..."`},
		{"rule with two matchers", external + "[[fleet.session.reply]]\nequals = \"2\"\ncontains = \"2\"\nsend = \"3\"", nil,
			`p.toml:4: fleet.session.reply.0: has more than one of equals, contains and regex: a rule matches one way; split it into two rules`},
		{"rule doing nothing", external + "[[fleet.session.reply]]\nequals = \"2\"", nil,
			`p.toml:4: fleet.session.reply.0: does nothing with the messages it matches: give it a reply (send = "...") or a reaction (then = "stop", "reconnect" or "reconnect_now")`},
		{"unknown reaction", external + "[[fleet.session.reply]]\nequals = \"2\"\nthen = \"close\"\nname = \"x\"", nil,
			`p.toml:6: fleet.session.reply.0.then: "close" is not a reaction: use "stop" (the server ended the session), "reconnect" (it asked the client to come back after its reconnect delay), "reconnect_now", or leave it out to go on`},
		{"stop without a name", external + "[[fleet.session.reply]]\nregex = \"^41\"\nthen = \"stop\"", nil,
			`p.toml:4: fleet.session.reply.0.name: is missing: a rule that ends the session names the reason it is counted under in summary.json, e.g. name = "server disconnect"`},
		{"bad regex", external + "[[fleet.session.reply]]\nregex = \"(\"\nsend = \"x\"", nil,
			`p.toml:5: fleet.session.reply.0.regex: is not a regular expression (Go RE2 syntax): missing closing ): ` + "`(`"},
		{"heartbeat without a message", external + "[fleet.session.heartbeat]\ninterval = \"30s\"", nil,
			`p.toml:4: fleet.session.heartbeat.send: is missing: a heartbeat every 30s sends a message; write it, e.g. send = '[null,"{{seq}}","phoenix","heartbeat",{}]'`},
		{"binary messages", sioProfile, []string{"fleet.session.send_interval=1s"},
			`--set fleet.session.send_interval: 1s sends binary messages, which a socket.io server does not know and may end the session on: give the messages in the protocol's words (fleet.session.message), or use 0s`},
		{"reject without a wait", external + "[[fleet.session.script]]\nsend = \"x\"\nreject = \"no\"", nil,
			`p.toml:6: fleet.session.script.0.reject: does not apply: a step's refusal ends its wait for expect or expect_regex, and this step waits for nothing; add what it waits for, or remove it`},
	}
	for _, tt := range tests {
		_, err := parse([]byte(tt.src), "p.toml", tt.sets, testEnv(vars))
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
			continue
		}
		found := false
		for _, e := range errs {
			found = found || e.Error() == tt.want
		}
		if !found {
			t.Errorf("%s: errors\n%v\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

// TestProtocolCodesLayer: a preset's close codes come over the RFC
// defaults and under on_close.
func TestProtocolCodesLayer(t *testing.T) {
	f := Fleet{ProtocolOptions: ProtocolOptions{Spec: &protocol.Spec{Codes: []protocol.CodeRange{
		{From: 3500, To: 3999, Then: protocol.Stop, Reason: "x"}, {From: 1000, To: 1000, Then: protocol.Reconnect}}}}}
	f.Reconnect.OnClose = map[string]string{"3501": OnCloseReconnect}
	for code, want := range map[int]string{3500: OnCloseStop, 3501: OnCloseReconnect, 1000: OnCloseReconnect, 1012: OnCloseReconnect, 4000: OnCloseReconnect} {
		if got := f.OnCloseOf(code); got != want {
			t.Errorf("code %d: %s, want %s", code, got, want)
		}
	}
}

// TestProtocolOptionTemplate: an option whose value makes a preset's
// message hold half a template variable is an error at the options.
func TestProtocolOptionTemplate(t *testing.T) {
	_, err := parse([]byte(sioProfile), "p.toml", []string{`fleet.protocol_options.auth={"t":"{{client}"}`}, testEnv(vars))
	if err == nil || !strings.Contains(err.Error(), "fleet.protocol_options: make a message of socket.io that is not a template") {
		t.Errorf("error %v", err)
	}
}

// TestProtocolErrorsHideSecrets: an option's error never shows a secret
// from the environment, nor the start of one.
func TestProtocolErrorsHideSecrets(t *testing.T) {
	long := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ3c3N0b3JtIn0.c2lnbmF0dXJl"
	env := testEnv(map[string]string{"LONG": long})
	for _, sets := range [][]string{
		{`fleet.protocol_options.auth={"token":"${LONG}"`},              // not JSON
		{`fleet.protocol_options.auth={"token":"${LONG}","x":"{{seq"}`}, // half a template variable
	} {
		_, err := parse([]byte(sioProfile), "p.toml", sets, env)
		if err == nil {
			t.Fatalf("%v: no error", sets)
		}
		if strings.Contains(err.Error(), long[:12]) {
			t.Errorf("%v: the error shows the secret: %v", sets, err)
		}
	}
}

// TestProtocolOptionsWritten: the effective profile writes options as the
// profile wrote them: ${NAME} kept (even a secret too short to redact), a
// literal $ escaped, a credential given with --set redacted everywhere;
// and it loads back to the same options.
func TestProtocolOptionsWritten(t *testing.T) {
	env := testEnv(map[string]string{"TOK": "abc"})
	src := external + `[fleet]
protocol = "graphql-ws"
[fleet.protocol_options]
connectionParams = '{"authToken":"${TOK}"}'
query = "subscription ($$r: String) { ticks(room: $$r) }"
`
	p, err := parse([]byte(src), "p.toml", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`connectionParams = "{\"authToken\":\"${TOK}\"}"`, `query = "subscription ($$r: String) { ticks(room: $$r) }"`} {
		if !strings.Contains(out, want) {
			t.Errorf("effective profile lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"abc"`) {
		t.Errorf("effective profile shows the short secret:\n%s", out)
	}
	q, err := parse(b.Bytes(), "q.toml", nil, env)
	if err != nil {
		t.Fatalf("the effective profile does not load: %v\n%s", err, out)
	}
	if got, want := q.Fleet.ProtocolOptions.Spec.Script, p.Fleet.ProtocolOptions.Spec.Script; got[1].Send != want[1].Send {
		t.Errorf("reloaded subscribe %q, want %q", got[1].Send, want[1].Send)
	}

	const tok = "tok-from-the-command-line"
	p, err = parse([]byte(src), "p.toml", []string{`fleet.protocol_options.connectionParams={"authToken":"` + tok + `"}`}, env)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), tok) || strings.Join(p.RedactedOverrides(), " ") != "fleet.protocol_options.connectionParams="+Redacted {
		t.Errorf("a credential from --set shows: overrides %q\n%s", p.RedactedOverrides(), b.String())
	}
}

// TestProtocolOverrideErrors: an unknown option given with --set is the
// override's error; a reply rule is written with the keys it has.
func TestProtocolOverrideErrors(t *testing.T) {
	_, err := parse([]byte(sioProfile), "p.toml", []string{"fleet.protocol_options.namspace=/x"}, testEnv(vars))
	if err == nil || !strings.HasPrefix(err.Error(), "--set fleet.protocol_options.namspace: unknown option") {
		t.Errorf("error %v", err)
	}
	p, err := parse([]byte(sioProfile+"[[fleet.session.reply]]\nequals = \"ping\"\nsend = \"pong\"\n"), "p.toml", nil, testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = p.WriteTOML(&b)
	if out := b.String(); !strings.Contains(out, `equals = "ping"`) || strings.Contains(out, `contains = ""`) || strings.Contains(out, `then = ""`) {
		t.Errorf("reply rule written as:\n%s", out)
	}
}

// TestProtocolListOptionWritten: a list option is written back as written,
// its ${NAME} elements kept.
func TestProtocolListOptionWritten(t *testing.T) {
	env := testEnv(map[string]string{"CH": "ab"})
	src := external + "[fleet]\nprotocol = \"centrifugo\"\n[fleet.protocol_options]\nchannels = [\"news\", \"${CH}\"]\n"
	p, err := parse([]byte(src), "p.toml", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `channels = ["news", "${CH}"]`) {
		t.Errorf("effective profile:\n%s", b.String())
	}
	q, err := parse(b.Bytes(), "q.toml", nil, env)
	if err != nil {
		t.Fatalf("does not load back: %v", err)
	}
	if got := q.Fleet.ProtocolOptions.Params.(*protocol.CentrifugoOptions).Channels; len(got) != 2 || got[1] != "ab" {
		t.Errorf("reloaded channels %q", got)
	}
}
