#!/usr/bin/env node
// Runs N clients of the real Phoenix JS client (npm phoenix, the version in
// package.json) against a Phoenix socket, each joining one channel, and
// prints one JSON line per client event on stdout:
//   {"t": ms since start, "client": "c1", "event": "...", ...}
// Events: dial (the first connection attempt), reconnect (each later one,
// with its attempt number), open, joined, join_error, join_timeout,
// heartbeat (a reply to phoenix.js's own heartbeat), error, close (code,
// reason), done. The script ends by itself after --duration-ms.
//
//   node phoenix-client.js --url ws://127.0.0.1:4000/socket --clients 3 \
//     --topic room:lobby --payload '{}' --heartbeat-ms 30000 --duration-ms 5000
//
// No browser stubs are needed: phoenix.js takes its WebSocket class as the
// `transport` option and only touches `window` when one exists.
"use strict"

const { parseArgs } = require("node:util")
const { Socket } = require("phoenix")
const WebSocket = require("ws")

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    clients: { type: "string", default: "1" },
    prefix: { type: "string", default: "c" },
    topic: { type: "string", default: "room:lobby" },
    payload: { type: "string", default: "{}" },
    "heartbeat-ms": { type: "string", default: "30000" },
    "duration-ms": { type: "string", default: "5000" },
  },
})
if (!opt.url) {
  process.stderr.write("phoenix-client.js: --url is required\n")
  process.exit(2)
}

const start = performance.now()
function emit(client, event, fields) {
  const line = { t: Math.round(performance.now() - start), client, event, ...fields }
  process.stdout.write(JSON.stringify(line) + "\n")
}

function runClient(client) {
  let dials = 0
  // Each connection attempt constructs a transport, so counting them shows
  // the library's reconnects as they happen.
  class Transport extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols)
      dials++
      emit(client, dials === 1 ? "dial" : "reconnect", { attempt: dials })
    }
  }
  const socket = new Socket(opt.url, {
    transport: Transport,
    params: { client },
    heartbeatIntervalMs: Number(opt["heartbeat-ms"]),
  })
  socket.onOpen(() => emit(client, "open"))
  socket.onError((err) => emit(client, "error", { message: String((err && err.message) || err) }))
  socket.onClose((ev) => emit(client, "close", { code: ev.code, reason: ev.reason }))
  socket.onMessage((msg) => {
    if (msg.topic === "phoenix" && msg.event === "phx_reply") {
      emit(client, "heartbeat", { status: msg.payload.status })
    }
  })
  const channel = socket.channel(opt.topic, JSON.parse(opt.payload))
  // The join's hooks stay with it, so each rejoin after a reconnect or a
  // join error is reported too.
  channel
    .join()
    .receive("ok", (resp) => emit(client, "joined", { topic: opt.topic, response: resp }))
    .receive("error", (resp) => emit(client, "join_error", { topic: opt.topic, response: resp }))
    .receive("timeout", () => emit(client, "join_timeout", { topic: opt.topic }))
  socket.connect()
  return socket
}

const sockets = []
for (let i = 1; i <= Number(opt.clients); i++) {
  sockets.push([`${opt.prefix}${i}`, runClient(`${opt.prefix}${i}`)])
}

setTimeout(() => {
  for (const [client, socket] of sockets) {
    socket.disconnect()
    emit(client, "done")
  }
  // Lets the close frames leave before the process ends.
  setTimeout(() => process.exit(0), 200)
}, Number(opt["duration-ms"]))
