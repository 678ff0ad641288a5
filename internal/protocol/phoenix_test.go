package protocol

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func buildPhoenix(t *testing.T, set func(*PhoenixOptions)) Spec {
	t.Helper()
	p, _ := Lookup("phoenix")
	o := p.Options().(*PhoenixOptions)
	set(o)
	s, err := p.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	checkSpec(t, "phoenix", s)
	return s
}

// TestPhoenixDefaults: phoenix.js's URL and heartbeat, and nothing joined
// without a topic.
func TestPhoenixDefaults(t *testing.T) {
	s := buildPhoenix(t, func(*PhoenixOptions) {})
	if s.Path != "/socket/websocket" || len(s.Query) != 1 || s.Query[0] != (Param{"vsn", "2.0.0"}) {
		t.Errorf("URL parts %q %v", s.Path, s.Query)
	}
	if s.Heartbeat != (Heartbeat{Interval: 30 * time.Second, Send: `[null,"{{seq}}","phoenix","heartbeat",{}]`}) {
		t.Errorf("heartbeat %+v", s.Heartbeat)
	}
	if len(s.Script) != 0 || len(s.Replies) != 0 || len(s.Codes) != 0 || s.Frame != nil || len(s.Subprotocols) != 0 {
		t.Errorf("spec %+v: want no join, rules, codes nor framing", s)
	}
}

// TestPhoenixJoin: the join as phoenix.js sends it, and the replies it
// waits for and is refused by, in the bytes the test server writes
// (status first) and Phoenix writes (Jason: response first).
func TestPhoenixJoin(t *testing.T) {
	s := buildPhoenix(t, func(o *PhoenixOptions) {
		o.Topic, o.ChanParams, o.Timeout = "room:lobby", `{"token":"t","n":1.0}`, 2500
	})
	if len(s.Script) != 1 {
		t.Fatalf("script %+v", s.Script)
	}
	st := s.Script[0]
	if want := `["1","1","room:lobby","phx_join",{"token":"t","n":1}]`; st.Send != want {
		t.Errorf("join %s, want %s", st.Send, want)
	}
	if st.Timeout != 2500*time.Millisecond {
		t.Errorf("join timeout %v", st.Timeout)
	}
	ok, refused := regexp.MustCompile(st.ExpectRegex), regexp.MustCompile(st.RejectRegex)
	for _, tc := range []struct {
		msg     string
		ok, ref bool
	}{
		{msg: `["1","1","room:lobby","phx_reply",{"status":"ok","response":{}}]`, ok: true},
		{msg: `["1","1","room:lobby","phx_reply",{"response":{},"status":"ok"}]`, ok: true},
		{msg: `["1","1","room:lobby","phx_reply",{"response":{"status":"error","n":[1]},"status":"ok"}]`, ok: true},
		{msg: `["1","1","room:lobby","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}]`, ref: true},
		{msg: `["1","1","room:lobby","phx_reply",{"response":{"reason":"unauthorized"},"status":"error"}]`, ref: true},
		{msg: `[null,"1","room:lobby","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]`, ref: true},
		{msg: `["1","1","room:lobby","phx_reply",{"response":{"status":"ok"},"status":"error"}]`, ref: true},
		{msg: `["1","1","room:lobby","phx_reply",{"status":"error","response":{"status":"ok"}}]`, ref: true},
		{msg: `[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]`},      // a heartbeat's reply
		{msg: `["1","5","room:lobby","phx_reply",{"response":{},"status":"ok"}]`},    // a push's
		{msg: `["1","1","room:lobbyist","phx_reply",{"response":{},"status":"ok"}]`}, // another topic
		{msg: `["1","1","room:lobby","phx_close",{}]`},
		{msg: `["1","1","room:lobby","phx_error",{}]`},
		{msg: `[null,null,"room:lobby","new_msg",{"status":"ok"}]`},
	} {
		if ok.MatchString(tc.msg) != tc.ok || refused.MatchString(tc.msg) != tc.ref {
			t.Errorf("%s: joined %v, refused %v; want %v, %v", tc.msg, ok.MatchString(tc.msg), refused.MatchString(tc.msg), tc.ok, tc.ref)
		}
	}
}

// TestPhoenixTemplates: a topic and params may name the client; the join's
// reply is then matched whatever the client's name, and a nested payload
// is sent as it is.
func TestPhoenixTemplates(t *testing.T) {
	s := buildPhoenix(t, func(o *PhoenixOptions) {
		o.Topic, o.ChanParams = "user:{{client}}", `{"user":{"id":"{{client}}"}}`
		o.Params = `{"token":"a b&c/é","client":"{{client}}","user":{"id":5,"tags":["x","y"]}}`
	})
	st := s.Script[0]
	if want := `["1","1","user:{{client}}","phx_join",{"user":{"id":"{{client}}"}}]`; st.Send != want {
		t.Errorf("join %s, want %s", st.Send, want)
	}
	if err := checkTemplate(st.Send); err != nil {
		t.Errorf("join %s: %v", st.Send, err)
	}
	ok := regexp.MustCompile(st.ExpectRegex)
	if !ok.MatchString(`["1","1","user:17","phx_reply",{"response":{},"status":"ok"}]`) || ok.MatchString(`["1","1","room:17","phx_reply",{"response":{},"status":"ok"}]`) {
		t.Errorf("reply regex %s", st.ExpectRegex)
	}
	// As phoenix.js 1.8.17's endPointURL writes new Socket(url, {params})'s
	// query (run with node 20), vsn last.
	want := "token=a%20b%26c%2F%C3%A9&client={{client}}&user%5Bid%5D=5&user%5Btags%5D%5B0%5D=x&user%5Btags%5D%5B1%5D=y&vsn=2.0.0"
	var got []string
	for _, p := range s.Query {
		got = append(got, p.Name+"="+p.Value)
	}
	if strings.Join(got, "&") != want {
		t.Errorf("query\n%s\nwant\n%s", strings.Join(got, "&"), want)
	}
}

// TestPhoenixBadOptions: each bad option is an OptionError of its key.
func TestPhoenixBadOptions(t *testing.T) {
	p, _ := Lookup("phoenix")
	for _, tc := range []struct {
		key string
		set func(*PhoenixOptions)
	}{
		{"endPoint", func(o *PhoenixOptions) { o.EndPoint = "socket" }},
		{"endPoint", func(o *PhoenixOptions) { o.EndPoint = "/socket?x=1" }},
		{"vsn", func(o *PhoenixOptions) { o.Vsn = "1.0.0" }},
		{"heartbeatIntervalMs", func(o *PhoenixOptions) { o.HeartbeatIntervalMs = 0 }},
		{"timeout", func(o *PhoenixOptions) { o.Timeout = -1 }},
		{"params", func(o *PhoenixOptions) { o.Params = "token=1" }},
		{"params", func(o *PhoenixOptions) { o.Params = `{"a":null}` }},
		{"params", func(o *PhoenixOptions) { o.Params = `{"a":{}}` }},
		{"params", func(o *PhoenixOptions) { o.Params = `{"vsn":"2.0.0"}` }},
		{"params", func(o *PhoenixOptions) { o.Params = `{"a":1} {}` }},
		{"topic", func(o *PhoenixOptions) { o.Topic = "room:{{client}" }},
		{"chanParams", func(o *PhoenixOptions) { o.Topic, o.ChanParams = "room:1", `["a"]` }},
		{"chanParams", func(o *PhoenixOptions) { o.Topic, o.ChanParams = "room:1", `{"a":"{{a"}` }},
		{"chanParams", func(o *PhoenixOptions) { o.ChanParams = `{"a":1}` }},
	} {
		o := p.Options().(*PhoenixOptions)
		tc.set(o)
		_, err := p.Build(o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Key != tc.key || strings.TrimSpace(oe.Msg) == "" {
			t.Errorf("%+v: error %v, want an OptionError of %s", *o, err, tc.key)
		}
	}
}
