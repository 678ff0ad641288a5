package clientlibs_test

import (
	"math"
	"time"
)

// Each library under test: how its clients run, what the server speaks to
// them, the script they go through, and what the library's own source says
// it does at each step (the bounds of its delay, or that it stops), read
// from the versions test/real/node/package.json pins and Debian's
// python3-websockets 10.4-1. Those expectations are the harness's own
// reading, independent of the presets': a library whose behaviour moves
// away from them, or a preset that moves away from its library, turns the
// test red.

// allEvents is every scripted event, in the order a script runs them: the
// events a library may stop on last.
var allEvents = []string{ev1012, ev1001, evDrop, ev4000, ev1000, ev4500, evRefused}

// refusals is how many upgrades a 503 event refuses: enough for SignalR to
// reach its last retry (0, 2, 10, 30 s: about 42 s of refusals).
const refusals = 4

// step is what a library does after an event's close (k = 0) or its k-th
// refused upgrade: its next attempt within [lo, hi], or it stops.
type step struct {
	lo, hi time.Duration
	stops  bool
}

func within(lo, hi float64) step { return step{lo: msDur(lo), hi: msDur(hi)} }
func at(ms float64) step         { return within(ms, ms) }

var stop = step{stops: true}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// library is one library under test.
type library struct {
	preset string // fleet.client
	// runner: "node" runs test/real/node/reconnect-runner.js --lib lib,
	// "python" runs websockets_runner.py.
	runner, lib string
	protocol    string // the server's protocol for the library's clients
	// wsProtocol is fleet.protocol ("" none: the server speaks plain
	// WebSocket to wsstorm's clients), wsOptions its options as TOML
	// lines, wsPath the path and query of wsstorm's target.url, where
	// {{client}} is the client's index.
	wsProtocol, wsOptions, wsPath string
	hold                          [2]time.Duration
	pools                         []pool
	// longest is the longest delay the library's formula allows: the
	// server takes a client silent for longest + stopSlack for stopped.
	longest time.Duration
	step    func(event string, k int) step
	// resolution: the delays are binned to it (roundMs) before the KS test, where
	// the library's delay is deterministic and what differs is the timer's
	// and the event loop's noise (0: not binned).
	resolution func(event string) time.Duration
	// oncePerClient: the library draws its randomness once per process,
	// so a client's delays are not independent: the KS test takes each
	// client's first delay of an event only.
	oncePerClient bool
}

// Slack of the bounds: a JavaScript timer counts whole milliseconds and
// may fire up to 1 ms before its time on the server's clock; after it come
// the event loop's lag and the upgrade request's own time, a few ms at the
// 99th percentile here but up to a few hundred on a machine busy with the
// test suite beside (Python's loop was 268 ms late once).
const (
	lowSlack  = 5 * time.Millisecond
	highSlack = time.Second
	stopSlack = 5 * time.Second
)

func unbinned(string) time.Duration { return 0 }
func binned(d time.Duration) func(string) time.Duration {
	return func(string) time.Duration { return d }
}

// closes is the events that end a connection with a close frame or none.
func isClose(event string) bool { return event != evRefused }

// hold is how long the server holds a connection before its event, but
// where a library needs longer.
func hold() [2]time.Duration { return [2]time.Duration{time.Second, 2 * time.Second} }

// closes6 is the six close events; closes5 all but 4500, for the libraries
// that stop on it (tested in a pool of its own).
func closes6() []string { return []string{ev1012, ev1001, evDrop, ev4000, ev1000, ev4500} }
func closes5() []string { return []string{ev1012, ev1001, evDrop, ev4000, ev1000} }

// libraries is every library under test, in the order of the table.
func libraries() []library {
	return []library{
		socketIOClientLib(),
		phoenixLib(),
		signalRLib(),
		centrifugeLib(),
		graphQLWSLib(),
		reconnectingWebSocketLib(),
		actionCableLib(),
		pythonWebsocketsLib(),
	}
}

// socket.io-client 4.8.4 build/cjs/manager.js (onclose resets the
// backoff and reconnects whatever closed the engine; a failed
// attempt reconnects again) and contrib/backo2.js: 1000 × 2^n,
// ± floor(rand × 0.5 × that) (the sign from the same rand),
// capped at 5000 after the jitter.
func socketIOClientLib() library {
	return library{
		preset: "socket.io-client@4", runner: "node", lib: "socket.io-client", protocol: "socket.io",
		wsProtocol: "socket.io", wsPath: "/socket.io/?client=W{{client}}",
		hold:    hold(),
		pools:   []pool{{clients: 140, rounds: 8, events: closes6()}, {clients: 42, rounds: 6, events: []string{evRefused}}},
		longest: 5 * time.Second,
		step: func(_ string, k int) step {
			ms := 1000 * math.Pow(2, float64(k))
			return within(min(ms/2, 5000), min(ms+ms/2, 5000))
		},
		// The cap comes after the jitter: from the second refusal on,
		// a share of the waits (all of them after the fourth) is
		// exactly 5000 ms, which the clients' timers and event loops
		// smear over a few ms differently on each side.
		resolution: binned(50 * time.Millisecond),
	}
}

// phoenix 1.8.17 assets/js/phoenix/socket.js: reconnectAfterMs
// [10, 50, 100, 150, 200, 250, 500, 1000, 2000][tries − 1] ||
// 5000; onConnClose reconnects any close it did not make itself,
// whatever its code (1000 too); tries reset in onConnOpen.
func phoenixLib() library {
	return library{
		preset: "phoenix@1.8", runner: "node", lib: "phoenix", protocol: "phoenix",
		wsProtocol: "phoenix", wsOptions: `params = '{"client":"W{{client}}"}'`, wsPath: "",
		hold:    hold(),
		pools:   []pool{{clients: 95, rounds: 12, events: closes6()}, {clients: 13, rounds: 20, events: []string{evRefused}}},
		longest: 5 * time.Second,
		step: func(_ string, k int) step {
			table := []float64{10, 50, 100, 150, 200, 250, 500, 1000, 2000}
			if k < len(table) {
				return at(table[k])
			}
			return at(5000)
		},
		// A fixed table, no jitter: 50 ms takes the timers' noise off and
		// keeps every entry of the table apart.
		resolution: binned(50 * time.Millisecond),
	}
}

// @microsoft/signalr 10.0.11 src/HubConnection.ts _connectionClosed
// (a connected hub with a retry policy reconnects after any
// close) and _reconnect; src/DefaultReconnectPolicy.ts: 0, 2000,
// 10000, 30000, then null: it stops.
func signalRLib() library {
	return library{
		preset: "@microsoft/signalr@10", runner: "node", lib: "signalr", protocol: "signalr",
		wsPath:  "/hub?client=W{{client}}",
		hold:    hold(),
		pools:   []pool{{clients: 95, rounds: 12, events: closes6()}, {clients: 334, rounds: 1, events: []string{evRefused}}},
		longest: 30 * time.Second,
		step: func(_ string, k int) step {
			if k >= 4 {
				return stop
			}
			return at([]float64{0, 2000, 10000, 30000}[k])
		},
		// 0, 2, 10, 30 s: 1 s bins keep them apart and absorb the event
		// loop's lag of a busy machine (tens of ms at the 99th percentile,
		// up to a few hundred at worst), where 50 ms bins split at once.
		resolution: binned(time.Second),
	}
}

// centrifuge 5.8.0 build/index.js: backoff(step, 500, 20000) =
// min(20000, 500 + randomInt(0, min(20000, 500 × 2^step))), the
// step reset by a connect reply; the transport's onClose: a close
// whose reason is not JSON advice stops on 3500-3999 and
// 4500-4999, reconnects otherwise (under 3000: transportClosed).
func centrifugeLib() library {
	return library{
		preset: "centrifuge@5", runner: "node", lib: "centrifuge", protocol: "centrifuge",
		wsProtocol: "centrifugo", wsPath: "/connection/websocket?client=W{{client}}",
		hold: hold(),
		pools: []pool{
			{clients: 110, rounds: 10, events: closes5()},
			{clients: 32, rounds: 8, events: []string{evRefused}},
			{clients: 100, rounds: 1, events: []string{ev4500}},
		},
		longest: 20 * time.Second,
		step: func(event string, k int) step {
			if event == ev4500 {
				return stop
			}
			return within(500, min(20000, 500+min(20000, 500*math.Pow(2, float64(k)))))
		},
		resolution: unbinned,
	}
}

// graphql-ws 6.4.2 dist/client.js: retryWait(retries) = 2^retries
// s + floor(rand × 2700 + 300) ms, retries reset by the ack; a
// 1000 close with a subscription live reconnects at once;
// 4500 (InternalServerError) is fatal; a refused upgrade is the
// WebSocket's error event, which the default shouldRetry
// (isLikeCloseEvent) does not retry: it stops.
func graphQLWSLib() library {
	return library{
		preset: "graphql-ws@6", runner: "node", lib: "graphql-ws", protocol: "graphql-ws",
		wsProtocol: "graphql-ws", wsOptions: `query = "subscription { ticks }"`, wsPath: "/graphql?client=W{{client}}",
		hold: hold(),
		pools: []pool{
			{clients: 190, rounds: 6, events: closes5()},
			{clients: 100, rounds: 1, events: []string{ev4500}},
			{clients: 100, rounds: 1, events: []string{evRefused}},
		},
		longest: 19 * time.Second,
		step: func(event string, k int) step {
			switch {
			case event == ev4500 || k >= 1:
				return stop
			case event == ev1000:
				return at(0)
			}
			return within(1300, 3999)
		},
		resolution: func(event string) time.Duration {
			if event == ev1000 {
				return time.Second // at once, nothing random; the next possible wait is 1.3 s
			}
			return 0
		},
	}
}

// reconnecting-websocket 4.4.0 dist/reconnecting-websocket-cjs.js:
// minReconnectionDelay 1000 + Math.random() × 4000, drawn when the
// module loads; the n-th attempt since the count reset waits
// min × 1.3^(n−1), capped at 10000; the count resets once a
// connection stayed up minUptime (5000 ms): the hold is longer,
// by 1.5 s at least, as the client's open event and its 5 s timer
// may each come a few hundred ms late on a busy machine.
func reconnectingWebSocketLib() library {
	return library{
		preset: "reconnecting-websocket@4", runner: "node", lib: "reconnecting-websocket", protocol: "plain",
		wsPath:  "/ws?client=W{{client}}",
		hold:    [2]time.Duration{6500 * time.Millisecond, 7500 * time.Millisecond},
		pools:   []pool{{clients: 1050, rounds: 1, events: allEvents}},
		longest: 10 * time.Second,
		step: func(_ string, k int) step {
			f := math.Pow(1.3, float64(k))
			return within(min(1000*f, 10000), min(5000*f, 10000))
		},
		resolution:    unbinned,
		oncePerClient: true,
	}
}

// @rails/actioncable 8.1.400 src/connection_monitor.js: a poll
// every staleThreshold (6 s) × 1.15^min(n, 10) × (1 + jitter),
// jitter in [0, 1) while n = 0, [0, 0.15) after; a poll reopens
// when the last message is over 6 s old and the disconnect is not
// (n counts the stale polls since the welcome). A close: the
// reopen is the first poll at least 6 s after it, the one after a
// poll that found the connection fresh (at most 6 s after its last
// message, which may be the moment of the close; then up to 12 s
// away) or stale but the disconnect recent (n = 1: up to 7.935 s
// away): 6 to 18 s. The k-th refusal: the next poll, whose
// interval the reopening poll drew with n ∈ {k, k+1} (one stale
// poll at most fits in the 6 s after a close).
func actionCableLib() library {
	return library{
		preset: "@rails/actioncable@8", runner: "node", lib: "actioncable", protocol: "actioncable",
		wsProtocol: "actioncable", wsPath: "/cable?client=W{{client}}",
		hold: hold(),
		pools: []pool{
			{clients: 230, rounds: 5, events: []string{ev1012, ev1001}},
			{clients: 230, rounds: 5, events: []string{evDrop, ev4000}},
			{clients: 230, rounds: 5, events: []string{ev1000, ev4500}},
			{clients: 126, rounds: 2, events: []string{evRefused}},
		},
		longest: 28 * time.Second, // 6 s × 1.15^10 × 1.15
		step: func(_ string, k int) step {
			if k == 0 {
				return within(6000, 18000)
			}
			// The poll's interval runs from the attempt it made, the
			// delay from that attempt's refusal: the attempt's own time
			// (ms, more on a busy machine) comes off; 1 s allowed.
			return within(6000*math.Pow(1.15, float64(k))-1000, 6000*math.Pow(1.15, float64(k+2)))
		},
		resolution: unbinned,
	}
}

// websockets 10.4 legacy/client.py Connect.__aiter__: a
// connection that closes, whatever its code, ends the loop's body
// and the next connect starts at once (the backoff resets on
// success); a failed connect (the 503's InvalidStatusCode) waits
// random() × 5 s the first time, then int(1.92 × 1.618^n) s: 3,
// 5, 8, 13, ... up to 60.
func pythonWebsocketsLib() library {
	return library{
		preset: "python-websockets@10", runner: "python", protocol: "plain",
		wsPath:  "/ws?client=W{{client}}",
		hold:    hold(),
		pools:   []pool{{clients: 95, rounds: 12, events: closes6()}, {clients: 42, rounds: 6, events: []string{evRefused}}},
		longest: 60 * time.Second,
		step: func(_ string, k int) step {
			switch k {
			case 0:
				return at(0)
			case 1:
				return within(0, 5000)
			}
			return at(math.Floor(1.92*math.Pow(1.618, float64(k-1))) * 1000)
		},
		// At once after a close and whole seconds after the second
		// refusal, the closest values 2 s apart: 1 s bins keep them
		// apart and absorb the lag of Python's event loop on a busy
		// machine (up to a few hundred ms); the first refusal's uniform
		// wait over 5 s is tested in five bins.
		resolution: binned(time.Second),
	}
}
