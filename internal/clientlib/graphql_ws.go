package clientlib

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// graphql-ws 6.4.2, read from dist/client.js (createClient, connect,
// shouldRetryConnectOrThrow, isFatalInternalCloseCode, isLikeCloseEvent)
// and dist/common (CloseCode) of the npm package, for a client that holds
// a subscription (lazy) or the non-lazy lock, as the protocol preset's
// client does:
//   - retryWait's default (randomisedExponentialBackoff): 2^retries × 1000
//     + Math.floor(Math.random() × 2700 + 300) ms, one Math.random() per
//     wait: 1300–3999 ms first, then 2300–4999, 4300–6999, ...
//   - connect: while retrying, it waits retryWait(retries), then counts
//     retries++ and opens; not retrying, it opens at once. The
//     connection_ack sets retrying false and retries 0: the count resets
//     on every acknowledged connect, after no uptime.
//   - shouldRetryConnectOrThrow, in its order: a CloseEvent whose code is
//     fatal ends the client (isFatalInternalCloseCode: 1000–1999 but 1000,
//     1001, 1005, 1006, 1012, 1013, 1014; and 4500, 4005, 4400, 4004, 4401,
//     4406, 4409, 4429; not 4403, 4408, 4499, 4504, nor any other code);
//     a 1000 close comes back while subscriptions live (locks > 0)
//     without setting retrying, so after an acknowledged connection it
//     reconnects at once, counts nothing and meets no limit; else
//     retryAttempts 0 or retries >= retryAttempts (default 5) ends it;
//     else shouldRetry (default isLikeCloseEvent) false ends it; else
//     retrying = true.
//   - A connect that never opens (refused, reset, a refused upgrade) is
//     seen as the socket's error event, which the browser's WebSocket and
//     ws fire before the close: no CloseEvent, so shouldRetry's default
//     ends the client there (documented under retryAttempts), the very
//     first connect too.
//   - connectionAckWaitTimeout (default 0: none) closes a socket with 4504
//     when no ack came in time, a CloseEvent that is retried. Its timer
//     starts once the socket is open and connection_init sent; the
//     preset's ConnectTimeout counts it from the attempt. No other timer:
//     the WebSocket's own upgrade has none, and keepAlive's pings close
//     nothing by themselves.
//   - lazy: the lazy client connects on its first subscribe, the non-lazy
//     one at once with a lock it never releases; both reconnect alike
//     while they hold a subscription (the non-lazy loop and the
//     subscription's share one connect and one retryWait).
//   - A delay over setTimeout's 2^31 − 1 ms (retries 21 on, with
//     retryAttempts inf) would fire at once in the runtime; the preset
//     keeps the library's arithmetic.
//
// Not seen at the WebSocket level: a "complete" or "error" for the last
// subscription makes the lazy client close with 1000 and stay away (no
// locks); the protocol preset ends the session there. The protocol has
// no message that sends a client away to come back.

// GraphQLWSOptions are createClient's options that shape the reconnect
// loop, in its names and units (milliseconds).
type GraphQLWSOptions struct {
	RetryAttempts            float64 `toml:"retryAttempts" doc:"retries in a row (counted since the last connection_ack) before it gives up; 0: none; inf: never gives up"`
	Lazy                     bool    `toml:"lazy" doc:"true: connect on the first subscribe; false: connect at once and hold the connection; a client that holds a subscription reconnects alike either way"`
	ConnectionAckWaitTimeout float64 `toml:"connectionAckWaitTimeout" doc:"how long, in ms, it waits for connection_ack once open before it closes with 4504 and retries; 0 or inf: it waits for ever"`
	ShouldRetry              string  `toml:"shouldRetry" doc:"which connection problems it retries: \"isLikeCloseEvent\" (the default: close events only; a connect that never opens ends the client) or \"always\" (shouldRetry: () => true)"`
}

// graphqlWS is the graphql-ws@6 preset.
type graphqlWS struct{}

func (graphqlWS) Name() string    { return "graphql-ws@6" }
func (graphqlWS) Version() string { return "6.4.2" }

func (graphqlWS) About() string {
	return "retries a close 2^n s + 300–2999 ms later, 5 times; a 1000 close reconnects at once; fatal codes and a connect that never opens end it; the count resets on ack"
}

func (graphqlWS) Source() string {
	return "graphql-ws 6.4.2, dist/client.js (createClient: retryWait's default, connect, shouldRetryConnectOrThrow, isFatalInternalCloseCode, isLikeCloseEvent) and dist/common (CloseCode)"
}

func (graphqlWS) Options() any {
	return &GraphQLWSOptions{RetryAttempts: 5, Lazy: true, ShouldRetry: "isLikeCloseEvent"}
}

func (graphqlWS) Build(opts any) (Preset, error) {
	o := *opts.(*GraphQLWSOptions)
	if math.IsNaN(o.RetryAttempts) || o.RetryAttempts < 0 {
		return nil, optstruct.Bad("retryAttempts", "is %v: want a number of 0 or more, or inf", o.RetryAttempts)
	}
	if a := o.ConnectionAckWaitTimeout; math.IsNaN(a) || a < 0 || (a > jsTimerMaxMs && !math.IsInf(a, 1)) {
		return nil, optstruct.Bad("connectionAckWaitTimeout", "is %v: want a number of ms from 0 to %d (0 or inf: none)", a, jsTimerMaxMs)
	}
	if o.ShouldRetry != "isLikeCloseEvent" && o.ShouldRetry != "always" {
		return nil, optstruct.Bad("shouldRetry", "is %q: want \"isLikeCloseEvent\" (the default) or \"always\"", o.ShouldRetry)
	}
	if math.IsInf(o.ConnectionAckWaitTimeout, 1) {
		o.ConnectionAckWaitTimeout = 0 // isFinite fails: no timer
	}
	return gqlPreset(o), nil
}

// gqlPreset is graphql-ws configured.
type gqlPreset GraphQLWSOptions

func (p gqlPreset) ConnectTimeout() time.Duration { return Millis(p.ConnectionAckWaitTimeout) }
func (gqlPreset) Unsimulable() string             { return "" }

func (p gqlPreset) NewClient(*rand.Rand) Client { return &gqlClient{p: p} }

// gqlFatal is shouldRetryConnectOrThrow's list of fatal close codes, with
// isFatalInternalCloseCode.
func gqlFatal(code int) bool {
	switch code {
	case 4500, 4005, 4400, 4004, 4401, 4406, 4409, 4429:
		return true
	case 1000, 1001, 1005, 1006, 1012, 1013, 1014:
		return false
	}
	return code >= 1000 && code <= 1999
}

// gqlClient is one app's graphql-ws client.
type gqlClient struct {
	p         gqlPreset
	retrying  bool
	retries   float64
	attemptAt time.Duration
}

func (c *gqlClient) Attempt(at time.Duration) { c.attemptAt = at }

// Opened is the connection_ack.
func (c *gqlClient) Opened(time.Duration) { c.retrying, c.retries = false, 0 }

// Failed is the error event of a connect that never opened, or, when the
// attempt lasted connectionAckWaitTimeout, the library's own 4504 close.
func (c *gqlClient) Failed(at time.Duration, _ int, rng *rand.Rand) Next {
	if t := c.p.ConnectionAckWaitTimeout; t > 0 && at-c.attemptAt >= Millis(t) {
		return c.shouldRetry(true, 4504, rng)
	}
	return c.shouldRetry(false, 0, rng)
}

func (c *gqlClient) Closed(_ time.Duration, code int, rng *rand.Rand) Next {
	return c.shouldRetry(true, code, rng)
}

// Away: graphql-ws has no go-away message; a server that sends a client
// away to come back closes with 1000 (back at once while subscribed) when
// now, else with 1012, retried after retryWait; with retryAttempts 0 only
// the 1000 close brings it back.
func (c *gqlClient) Away(at time.Duration, now bool, rng *rand.Rand) Next {
	if !now {
		if n := c.Closed(at, 1012, rng); !n.Stop {
			return n
		}
	}
	return c.Closed(at, 1000, rng)
}

// shouldRetry is shouldRetryConnectOrThrow for a close event (closeEvent,
// with code) or a connection error, then connect's wait.
func (c *gqlClient) shouldRetry(closeEvent bool, code int, rng *rand.Rand) Next {
	if closeEvent && gqlFatal(code) {
		return Stopped(fmt.Sprintf("graphql-ws: close code %d is fatal", code))
	}
	if closeEvent && code == 1000 {
		return After(c.connectWait(rng)) // locks > 0: the client holds a subscription
	}
	if c.p.RetryAttempts == 0 || c.retries >= c.p.RetryAttempts {
		return GivenUp(fmt.Sprintf("graphql-ws: retryAttempts (%v) reached", c.p.RetryAttempts))
	}
	if !closeEvent && c.p.ShouldRetry == "isLikeCloseEvent" {
		return Stopped("graphql-ws: a connection error that is not a close event is fatal (shouldRetry's default)")
	}
	c.retrying = true
	return After(c.connectWait(rng))
}

// connectWait is what connect waits before it opens: retryWait's default
// while retrying, counting the retry; nothing otherwise.
func (c *gqlClient) connectWait(rng *rand.Rand) time.Duration {
	if !c.retrying {
		return 0
	}
	ms := math.Pow(2, c.retries)*1000 + math.Floor(rng.Float64()*(3000-300)+300)
	c.retries++
	return Millis(ms)
}
