package protocol

import (
	"errors"
	"testing"
)

// Messages a graphql-ws 6.4.2 server (useServer on ws 8.23.1, a schema with
// a ticks subscription) sent to a plain WebSocket client, and the same
// messages as servers that order their keys otherwise write them.
const (
	gqlAck      = `{"type":"connection_ack"}`
	gqlNext     = `{"id":"1","type":"next","payload":{"data":{"ticks":1}}}`
	gqlError    = `{"id":"1","type":"error","payload":[{"message":"Cannot query field \"nope\" on type \"Subscription\".","locations":[{"line":1,"column":16}]}]}`
	gqlComplete = `{"id":"1","type":"complete"}`
	gqlPing     = `{"type":"ping","payload":{"at":1796617934372}}`

	gqlNextTypeFirst    = `{"type": "next", "id": "1", "payload": {"data": {"ticks": 1}}}`
	gqlNextPayloadFirst = `{"payload":{"data":{"ticks":1}},"type":"next","id":"1"}`
	gqlCompleteLast     = `{"id": "1", "type": "complete"}`
	gqlErrorTypeLast    = `{"payload":[{"message":"no"}],"id":"1","type":"error"}`
	// Payloads that hold a "type" key, which must not be taken for the
	// message's type.
	gqlNextNested1 = `{"id":"1","type":"next","payload":{"data":{"t":{"type":"complete"}}}}`
	gqlNextNested2 = `{"id":"1","type":"next","payload":{"data":{"type":"error","id":"2"}}}`
	gqlNextNested3 = `{"payload":{"data":{"x":{"type":"ping"}}},"id":"1","type":"next"}`
)

// TestGraphQLWSDefaults: without a query the client connects and is
// acknowledged, and answers pings.
func TestGraphQLWSDefaults(t *testing.T) {
	p, _ := Lookup("graphql-ws")
	s, err := p.Build(p.Options())
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != "/graphql" || len(s.Subprotocols) != 1 || s.Subprotocols[0] != "graphql-transport-ws" || s.Frame != nil {
		t.Errorf("URL, subprotocols or framing: %+v", s)
	}
	if len(s.Script) != 1 || s.Script[0].Send != `{"type":"connection_init"}` || s.Script[0].RejectRegex != "" {
		t.Fatalf("script %+v", s.Script)
	}
	matches(t, "ack", s.Script[0].ExpectRegex,
		[]string{gqlAck, `{"type":"connection_ack","payload":{"x":1}}`, `{ "type" : "connection_ack" }`},
		[]string{gqlPing, gqlNext, `{"payload":{"type":"connection_ack"}}`})
	if len(s.Replies) != 1 || s.Replies[0].Send != `{"type":"pong"}` || s.Replies[0].Then != Continue {
		t.Fatalf("rules %+v, want the ping's alone", s.Replies)
	}
	matches(t, "ping", s.Replies[0].Regex,
		[]string{gqlPing, `{"type":"ping"}`, `{"payload":{"a":1},"type":"ping"}`},
		[]string{`{"type":"pong"}`, gqlNext, gqlNextNested3, gqlAck})
}

// TestGraphQLWSSubscription: the messages of a subscription, as
// graphql-ws's client writes them, and the server messages that end the
// recovery, refuse it or end the session.
func TestGraphQLWSSubscription(t *testing.T) {
	p, _ := Lookup("graphql-ws")
	o := p.Options().(*GraphQLWSOptions)
	o.ConnectionParams = `{"auth":{"token":"t"}}`
	o.Query = `subscription Ticks($every: Int) { ticks(every: $every) { n } }`
	o.Variables = `{"every":500,"room":"{{client}}"}`
	o.OperationName = "Ticks"
	s, err := p.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Script) != 2 {
		t.Fatalf("script %+v, want init and subscribe", s.Script)
	}
	init, sub := s.Script[0], s.Script[1]
	if want := `{"type":"connection_init","payload":{"auth":{"token":"t"}}}`; init.Send != want {
		t.Errorf("init %s, want %s", init.Send, want)
	}
	want := `{"id":"{{uuid}}","type":"subscribe","payload":{"query":"subscription Ticks($every: Int) { ticks(every: $every) { n } }",` +
		`"variables":{"every":500,"room":"{{client}}"},"operationName":"Ticks"}}`
	if sub.Send != want {
		t.Errorf("subscribe\n%s\nwant\n%s", sub.Send, want)
	}
	checkParses(t, "init", init.Send)
	checkParses(t, "subscribe", sub.Send)
	matches(t, "next", sub.ExpectRegex,
		[]string{gqlNext, gqlNextTypeFirst, gqlNextPayloadFirst, gqlNextNested1, gqlNextNested2},
		[]string{gqlAck, gqlPing, gqlError, gqlComplete, `{"id":"1","type":"nextx"}`})
	matches(t, "error", sub.RejectRegex,
		[]string{gqlError, gqlErrorTypeLast},
		[]string{gqlNext, gqlNextNested2, gqlComplete, gqlAck})
	rules := map[string]Reply{}
	for _, r := range s.Replies {
		rules[r.Name] = r
	}
	complete, errored := rules["subscription complete"], rules["subscription error"]
	if complete.Then != Stop || errored.Then != Stop || complete.Send != "" || errored.Send != "" {
		t.Fatalf("rules %+v: want complete and error to stop the session", s.Replies)
	}
	matches(t, "complete", complete.Regex,
		[]string{gqlComplete, gqlCompleteLast, `{"type":"complete","id":"1"}`},
		[]string{gqlNext, gqlNextNested1, gqlError})
	matches(t, "error rule", errored.Regex,
		[]string{gqlError, gqlErrorTypeLast},
		[]string{gqlNext, gqlNextNested2, gqlComplete})
}

// TestGraphQLWSCodes: the protocol's close codes, fatal or retried as the
// graphql-ws client treats them; the RFC 6455 codes are left to the
// defaults.
func TestGraphQLWSCodes(t *testing.T) {
	p, _ := Lookup("graphql-ws")
	s, _ := p.Build(p.Options())
	for code, want := range map[int]string{
		4400: Stop + " bad request", 4401: Stop + " unauthorized", 4406: Stop + " subprotocol not acceptable",
		4409: Stop + " subscriber already exists", 4429: Stop + " too many initialisation requests",
		4500: Stop + " internal server error",
		4403: Reconnect, 4408: Reconnect, 4499: Reconnect, 4504: Reconnect,
		1000: "", 1001: "", 1011: "", 4004: "", 4005: "", 4000: "",
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

// TestGraphQLWSBadOptions: each bad option is an OptionError of its key.
func TestGraphQLWSBadOptions(t *testing.T) {
	p, _ := Lookup("graphql-ws")
	for _, tc := range []struct {
		key string
		set func(*GraphQLWSOptions)
	}{
		{"path", func(o *GraphQLWSOptions) { o.Path = "graphql" }},
		{"connectionParams", func(o *GraphQLWSOptions) { o.ConnectionParams = "token=1" }},
		{"connectionParams", func(o *GraphQLWSOptions) { o.ConnectionParams = `["t"]` }},
		{"variables", func(o *GraphQLWSOptions) { o.Query, o.Variables = "subscription { ticks }", "null" }},
		{"variables", func(o *GraphQLWSOptions) { o.Variables = `{"a":1}` }},
		{"operationName", func(o *GraphQLWSOptions) { o.OperationName = "Ticks" }},
	} {
		o := p.Options().(*GraphQLWSOptions)
		tc.set(o)
		_, err := p.Build(o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Key != tc.key || oe.Msg == "" {
			t.Errorf("%s: error %v, want an OptionError of %s", tc.key, err, tc.key)
		}
	}
}
