#!/usr/bin/env node
// Runs N clients of one client library (the versions in package.json) for
// the differential test of wsstorm's client presets (test/clientlibs). Each
// client is the library as an app uses it, with its defaults, on a client id
// of its own in the URL's query (client=PREFIX<i>, i from 0), connected and
// left alone: when the server closes or refuses it, the library does what it
// does. The server times every attempt; this script prints nothing but
// errors of its own and, at its end, how late its event loop ran (a line
// "loop lag: ..."), and ends after --duration-ms or on SIGTERM.
//
//   node reconnect-runner.js --lib socket.io-client --url ws://127.0.0.1:PORT \
//     --clients 100 --prefix L --ramp-ms 5000 --duration-ms 300000
//
// Libraries (--lib) and where each connects under --url:
//   socket.io-client         /socket.io/ (transports: ["websocket"], forceNew)
//   phoenix                  /socket/websocket (params: {client})
//   signalr                  /hub (withAutomaticReconnect(), skipNegotiation,
//                            the WebSockets transport)
//   centrifuge               /connection/websocket
//   graphql-ws               /graphql, one subscription live (createClient is
//                            lazy: it connects for a subscription)
//   reconnecting-websocket   /ws; the module is loaded afresh for each client,
//                            as it draws minReconnectionDelay once per load
//   actioncable              /cable
// The `ws` package is the WebSocket class wherever a library takes one
// (phoenix's transport, centrifuge's websocket, graphql-ws's webSocketImpl,
// reconnecting-websocket's WebSocket, ActionCable's adapters.WebSocket);
// socket.io-client and @microsoft/signalr load `ws` themselves in Node.
// Browser stubs: ActionCable's ConnectionMonitor registers a
// "visibilitychange" listener on the global object, so globalThis gets
// addEventListener and removeEventListener (lib/stubs-actioncable.js); no
// other library needs window, document or navigator here.
"use strict"

const { parseArgs } = require("node:util")
const { monitorEventLoopDelay } = require("node:perf_hooks")
const WebSocket = require("ws")

const { values: opt } = parseArgs({
  options: {
    lib: { type: "string" },
    url: { type: "string" },
    clients: { type: "string", default: "1" },
    prefix: { type: "string", default: "L" },
    "ramp-ms": { type: "string", default: "0" },
    "duration-ms": { type: "string", default: "60000" },
  },
})

// Errors the libraries report are their business (a refused upgrade is the
// point of the script); counted, and a few shown, on stderr.
let errors = 0
function noted(what) {
  return (err) => {
    errors++
    if (errors <= 3) process.stderr.write(`${opt.lib}: ${what}: ${String((err && err.message) || err)}\n`)
  }
}

// When its connectionTimeout (4 s) fires on a socket still connecting,
// reconnecting-websocket removes its listeners and closes the socket; `ws`
// then emits "error" on it, which with no listener ends the process, where
// a browser's WebSocket fires an event nobody hears. This listener only
// hears it: the library's own go through addEventListener, as before.
class QuietWebSocket extends WebSocket {
  constructor(...args) {
    super(...args)
    this.on("error", () => {})
  }
}

const clients = {
  "socket.io-client": (base, id) => {
    const { io } = require("socket.io-client")
    // forceNew: io() shares one Manager per host otherwise, and each client
    // is an app of its own.
    const socket = io(base, { transports: ["websocket"], query: { client: id }, forceNew: true })
    socket.on("connect_error", () => {})
  },
  phoenix: (base, id) => {
    const { Socket } = require("phoenix")
    new Socket(`${base}/socket`, { transport: WebSocket, params: { client: id } }).connect()
  },
  signalr: (base, id) => {
    const signalR = require("@microsoft/signalr")
    const conn = new signalR.HubConnectionBuilder()
      .withUrl(`${base.replace(/^ws/, "http")}/hub?client=${id}`, {
        skipNegotiation: true,
        transport: signalR.HttpTransportType.WebSockets,
      })
      .withAutomaticReconnect()
      .configureLogging(signalR.LogLevel.None)
      .build()
    conn.start().catch(noted("start"))
  },
  centrifuge: (base, id) => {
    const { Centrifuge } = require("centrifuge")
    const c = new Centrifuge(`${base}/connection/websocket?client=${id}`, { websocket: WebSocket })
    c.on("error", () => {}) // an EventEmitter throws an unheard error
    c.connect()
  },
  "graphql-ws": (base, id) => {
    const { createClient } = require("graphql-ws")
    const client = createClient({ url: `${base}/graphql?client=${id}`, webSocketImpl: WebSocket })
    client.subscribe({ query: "subscription { ticks }" }, { next() {}, error() {}, complete() {} })
  },
  "reconnecting-websocket": (base, id) => {
    const path = require.resolve("reconnecting-websocket")
    delete require.cache[path]
    const ReconnectingWebSocket = require(path)
    const rws = new ReconnectingWebSocket(`${base}/ws?client=${id}`, undefined, { WebSocket: QuietWebSocket })
    rws.addEventListener("error", () => {})
  },
  actioncable: (base, id) => {
    require("./lib/stubs-actioncable")
    const ActionCable = require("@rails/actioncable")
    ActionCable.adapters.WebSocket = WebSocket
    new ActionCable.Consumer(`${base}/cable?client=${id}`).connect()
  },
}

const start = clients[opt.lib]
if (!start || !opt.url) {
  process.stderr.write(`reconnect-runner.js: --url and --lib (${Object.keys(clients).join(", ")}) are required\n`)
  process.exit(2)
}
process.on("unhandledRejection", noted("unhandled rejection"))

const n = Number(opt.clients)
const ramp = Number(opt["ramp-ms"])
for (let i = 0; i < n; i++) {
  setTimeout(() => start(opt.url, `${opt.prefix}${i}`), (i * ramp) / n)
}

// How late this process's event loop ran its callbacks: a busy machine
// makes every library's timer late by about as much, which the harness's
// log shows beside the delays.
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()

function end() {
  if (errors > 3) process.stderr.write(`${opt.lib}: ${errors} errors in all\n`)
  // The histogram holds each 10 ms tick's whole wait: its lateness is past that.
  const ms = (ns) => Math.max(0, ns / 1e6 - 10).toFixed(1)
  process.stderr.write(`loop lag: p50 ${ms(lag.percentile(50))} ms, p99 ${ms(lag.percentile(99))} ms, max ${ms(lag.max)} ms\n`)
  process.exit(0)
}
setTimeout(end, Number(opt["duration-ms"]))
process.on("SIGTERM", end)
process.on("SIGINT", end)
