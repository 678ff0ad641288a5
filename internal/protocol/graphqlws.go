package protocol

import (
	"regexp"
	"strings"
)

// graphqlWS speaks the graphql-transport-ws protocol, as graphql-ws's
// createClient does with its defaults (lazy, one subscription). From
// graphql-ws 6.4.2 (PROTOCOL.md; dist/client.js createClient,
// shouldRetryConnectOrThrow and isFatalInternalCloseCode; dist/common
// CloseCode; dist/server makeServer; dist/use/ws.js useServer):
//   - the client offers the subprotocol graphql-transport-ws, and the
//     server closes with 4406 without it;
//   - once open, the client sends {"type":"connection_init"}, with its
//     connectionParams as "payload" if any; the server answers
//     {"type":"connection_ack"}, or refuses by closing with 4403;
//   - after the ack, and not before (4401), the client subscribes:
//     {"id":...,"type":"subscribe","payload":{"query":...}} with a v4 UUID
//     it keeps for the subscription's retries; the server then sends
//     "next" messages, or "error" (the operation failed) or "complete" (it
//     ended). There is no acknowledgement of a subscription: the first
//     "next" is the first sign that it runs, so it ends the recovery;
//   - either side may ping, {"type":"ping"}, and the other answers
//     {"type":"pong"} at once; the client echoes the ping's payload, which
//     the server does not look at (makeServer, case Pong), so the preset's
//     pong carries none; useServer itself keeps alive with WebSocket ping
//     frames, not protocol pings;
//   - when its only subscription ends ("complete" or "error"), the lazy
//     client closes its socket with 1000 and connects no more: the preset
//     ends the session there, as a stop;
//   - the server ends a session by a close code (CloseCode): the client
//     gives up on 4400, 4401, 4406, 4409, 4429 and 4500 (fatal in
//     shouldRetryConnectOrThrow) and retries on 4403, 4408, 4499 and 4504.
//     4004 and 4005 are the client's own codes and never come from a
//     server. The client's treatment of RFC 6455 codes (fatal 1002–1011,
//     1015–1999; 1000 retried at once while subscribed; retries given up
//     after retryAttempts) is the client library's reconnect behaviour, not
//     the protocol's: the RFC defaults stay.
//
// A connection carries this one operation, so a top-level "next", "error"
// or "complete" is its: the rules need not match the id.
type graphqlWS struct{}

// GraphQLWSOptions are the graphql-ws preset's options, named as
// graphql-ws names them.
type GraphQLWSOptions struct {
	Path             string `toml:"path" doc:"the server's GraphQL WebSocket path, used when target.url has none"`
	ConnectionParams string `toml:"connectionParams" secret:"true" doc:"the connection_init payload, a JSON object (a template; ${NAME} from the environment); \"\": none"`
	Query            string `toml:"query" doc:"the operation subscribed to after the ack, e.g. \"subscription { ticks }\" (a GraphQL variable's $ is written $$, as ${NAME} takes the environment's); \"\": none, the client holds the connection alone (as createClient with lazy: false)"`
	Variables        string `toml:"variables" doc:"the operation's variables, a JSON object (a template); \"\": none"`
	OperationName    string `toml:"operationName" doc:"the operation's name, when query holds several; \"\": none"`
}

func (graphqlWS) Name() string { return "graphql-ws" }

func (graphqlWS) About() string {
	return "GraphQL over WebSocket (graphql-transport-ws, graphql-ws 6): connection_init → ack, a subscription, ping → pong, the subscription's end, close codes"
}

func (graphqlWS) Source() string {
	return "graphql-ws 6.4.2 PROTOCOL.md, dist/client.js, dist/common, dist/server and dist/use/ws.js"
}

func (graphqlWS) Options() any {
	return &GraphQLWSOptions{Path: "/graphql"}
}

// graphqlWSCodes are the protocol's close codes (CloseCode) as the
// graphql-ws client treats them.
func graphqlWSCodes() []CodeRange {
	fatal := func(code int, reason string) CodeRange {
		return CodeRange{From: code, To: code, Then: Stop, Reason: reason}
	}
	retry := func(code int, reason string) CodeRange {
		return CodeRange{From: code, To: code, Then: Reconnect, Reason: reason}
	}
	return []CodeRange{
		fatal(4400, "bad request"),
		fatal(4401, "unauthorized"),
		retry(4403, "forbidden"),
		fatal(4406, "subprotocol not acceptable"),
		retry(4408, "connection initialisation timeout"),
		fatal(4409, "subscriber already exists"),
		fatal(4429, "too many initialisation requests"),
		retry(4499, "terminated"),
		fatal(4500, "internal server error"),
		retry(4504, "connection acknowledgement timeout"),
	}
}

// topType matches a JSON message whose top-level "type" is typ: as its
// first key, or second after an "id" (graphql-ws writes id, type,
// payload), or its last key but an "id" (servers that write the payload
// first). Inside a payload, the "type" key is nowhere of these.
func topType(typ string) string {
	t := `"type"\s*:\s*"` + regexp.QuoteMeta(typ) + `"`
	id := `"id"\s*:\s*"[^"]*"`
	return `^\s*\{\s*(?:` + id + `\s*,\s*)?` + t + `|` + t + `\s*(?:,\s*` + id + `\s*)?\}\s*$`
}

func (graphqlWS) Build(opts any) (Spec, error) {
	o := opts.(*GraphQLWSOptions)
	if !strings.HasPrefix(o.Path, "/") {
		return Spec{}, badOption("path", "%q must start with /", o.Path)
	}
	if o.ConnectionParams != "" && !jsonObjectTemplate(o.ConnectionParams) {
		return Spec{}, badOption("connectionParams", "must be a JSON object, e.g. '{\"authToken\":\"${TOKEN}\"}'")
	}
	if o.Query == "" && (o.Variables != "" || o.OperationName != "") {
		key := "variables"
		if o.Variables == "" {
			key = "operationName"
		}
		return Spec{}, badOption(key, "is set without a query: write the operation in query, e.g. \"subscription { ticks }\"")
	}
	if o.Variables != "" && !jsonObjectTemplate(o.Variables) {
		return Spec{}, badOption("variables", "must be a JSON object, e.g. '{\"room\":\"{{client}}\"}'")
	}
	init := `{"type":"connection_init"}`
	if o.ConnectionParams != "" {
		init = `{"type":"connection_init","payload":` + strings.TrimSpace(o.ConnectionParams) + `}`
	}
	spec := Spec{
		Path:         o.Path,
		Subprotocols: []string{"graphql-transport-ws"},
		Script:       []Step{{Send: init, ExpectRegex: topType("connection_ack")}},
		Replies:      []Reply{{Name: "graphql-ws ping", Regex: topType("ping"), Send: `{"type":"pong"}`}},
		Codes:        graphqlWSCodes(),
	}
	if o.Query == "" {
		return spec, nil
	}
	payload := `"query":` + jsonString(o.Query)
	if o.Variables != "" {
		payload += `,"variables":` + strings.TrimSpace(o.Variables)
	}
	if o.OperationName != "" {
		payload += `,"operationName":` + jsonString(o.OperationName)
	}
	spec.Script = append(spec.Script, Step{
		Send:        `{"id":"{{uuid}}","type":"subscribe","payload":{` + payload + `}}`,
		ExpectRegex: topType("next"),
		RejectRegex: topType("error"),
	})
	spec.Replies = append(spec.Replies,
		Reply{Name: "subscription complete", Regex: topType("complete"), Then: Stop},
		Reply{Name: "subscription error", Regex: topType("error"), Then: Stop},
	)
	return spec, nil
}
