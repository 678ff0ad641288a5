#!/usr/bin/env node
// Runs N clients of the real ActionCable JS client (npm @rails/actioncable,
// the version in package.json) against an ActionCable server, each
// subscribing to one channel, and prints one JSON line per client event on
// stdout:
//   {"t": ms since start, "client": "c1", "event": "...", ...}
// Events: dial (the first connection attempt), reconnect (each later one,
// with its attempt number), open, welcome, ping, disconnect (the server's
// message: reason, reconnect), confirmed (reconnected), rejected,
// disconnected (willAttemptReconnect), received, error, close (code,
// reason), done. The script ends by itself after --duration-ms.
//
//   node actioncable-client.js --url ws://127.0.0.1:3000/cable --clients 3 \
//     --channel ChatChannel --params '{"room":"lobby"}' --stale-threshold 6 \
//     --duration-ms 5000
//
// --stale-threshold sets ConnectionMonitor.staleThreshold (seconds, 6 by
// default: two missed pings of 3 s); a test server that pings faster can
// shorten it so reconnects come sooner. Each client's URL carries
// ?client=<name>, as applications pass a token in the cable URL.
"use strict"

require("./lib/stubs-actioncable")
const { parseArgs } = require("node:util")
const ActionCable = require("@rails/actioncable")
const WebSocket = require("ws")

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    clients: { type: "string", default: "1" },
    prefix: { type: "string", default: "c" },
    channel: { type: "string", default: "ChatChannel" },
    params: { type: "string", default: "{}" },
    "stale-threshold": { type: "string", default: "6" },
    "duration-ms": { type: "string", default: "5000" },
  },
})
if (!opt.url) {
  process.stderr.write("actioncable-client.js: --url is required\n")
  process.exit(2)
}

const start = performance.now()
function emit(client, event, fields) {
  const line = { t: Math.round(performance.now() - start), client, event, ...fields }
  process.stdout.write(JSON.stringify(line) + "\n")
}

ActionCable.ConnectionMonitor.staleThreshold = Number(opt["stale-threshold"])

// All consumers share one adapter class; each connection attempt
// constructs it, so counting per client (from the URL) shows the library's
// reconnects as they happen. The listeners added here only watch: the
// library's own handlers are its on* properties.
const dials = new Map()
class Transport extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols)
    const client = new URL(url).searchParams.get("client")
    const n = (dials.get(client) || 0) + 1
    dials.set(client, n)
    emit(client, n === 1 ? "dial" : "reconnect", { attempt: n })
    this.addEventListener("open", () => emit(client, "open", { protocol: this.protocol }))
    this.addEventListener("error", (ev) => emit(client, "error", { message: String(ev.message) }))
    this.addEventListener("close", (ev) => emit(client, "close", { code: ev.code, reason: ev.reason }))
    this.addEventListener("message", (ev) => {
      const msg = JSON.parse(ev.data)
      if (msg.type === "welcome" || msg.type === "ping") {
        emit(client, msg.type)
      } else if (msg.type === "disconnect") {
        emit(client, "disconnect", { reason: msg.reason, reconnect: msg.reconnect })
      }
    })
  }
}
ActionCable.adapters.WebSocket = Transport

function runClient(client) {
  const url = new URL(opt.url)
  url.searchParams.set("client", client)
  const consumer = new ActionCable.Consumer(url.toString())
  const identifier = { channel: opt.channel, ...JSON.parse(opt.params) }
  consumer.subscriptions.create(identifier, {
    connected: ({ reconnected }) => emit(client, "confirmed", { channel: opt.channel, reconnected }),
    disconnected: ({ willAttemptReconnect }) => emit(client, "disconnected", { willAttemptReconnect }),
    rejected: () => emit(client, "rejected", { channel: opt.channel }),
    received: (data) => emit(client, "received", { data }),
  })
  return consumer
}

const consumers = []
for (let i = 1; i <= Number(opt.clients); i++) {
  consumers.push([`${opt.prefix}${i}`, runClient(`${opt.prefix}${i}`)])
}

setTimeout(() => {
  for (const [client, consumer] of consumers) {
    consumer.disconnect()
    emit(client, "done")
  }
  // Lets the close frames leave before the process ends.
  setTimeout(() => process.exit(0), 200)
}, Number(opt["duration-ms"]))
