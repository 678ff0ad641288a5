'use strict';
// A Socket.IO 4 backend for wsstorm's real-server tests: an echo app as a
// real one is written with socket.io 4.8.4, plus the event log and metrics
// that are the server's side of the truth. See README.md.
//
//   node socketio-server.js --port P --name NAME --log FILE [--ping-interval MS] [--ping-timeout MS]

const http = require('node:http');
const { Server } = require('socket.io');
const { EventLog } = require('./lib/eventlog');
const { Metrics } = require('./lib/metrics');
const { ConnectionLedger } = require('./lib/connections');
const { parseFlags, requestHandler, serve } = require('./lib/backend');

// socket.io's own defaults (socket.io 4.8.4 dist/index.js, engine.io 6.6.13 build/server.js).
const flags = parseFlags(process.argv.slice(2), { 'ping-interval': 25000, 'ping-timeout': 20000 });
const log = new EventLog(flags.log, flags.name);
const metrics = new Metrics();
const ledger = new ConnectionLedger(log, metrics);
const nsConnects = metrics.counter(
  'wsstorm_real_socketio_namespace_connects_total', 'Socket.IO namespace connects, by namespace.', true);
const nsDisconnects = metrics.counter(
  'wsstorm_real_socketio_namespace_disconnects_total', 'Socket.IO namespace disconnects, by socket.io reason.', true);
const events = metrics.counter('wsstorm_real_socketio_events_total', 'Events received from clients and echoed.');

const httpServer = http.createServer(requestHandler(metrics, { 'POST /admin/disconnect': kick }));
const io = new Server(httpServer, {
  pingInterval: flags['ping-interval'],
  pingTimeout: flags['ping-timeout'],
  // wsstorm speaks Engine.IO over WebSocket only; refusing polling keeps every
  // session a WebSocket that the ledger counts.
  transports: ['websocket'],
});

// The ledger's record of each Engine.IO session.
const connOf = new WeakMap();

// Each Engine.IO session is one WebSocket: the transport's socket is the `ws`
// WebSocket (engine.io 6.6.13 build/transports/websocket.js), and the
// connection event comes in the tick its 101 was written.
io.engine.on('connection', (session) => {
  const conn = ledger.track(session.transport.socket, session.request);
  session.once('close', (reason) => {
    conn.reason ??= reason;
  });
  connOf.set(session, conn);
});

// The sockets connected to any namespace, oldest first, for /admin/disconnect.
const sockets = new Set();

function onNamespaceConnect(socket) {
  const conn = connOf.get(socket.conn);
  conn.reason = null; // a namespace left earlier is not why this session ends
  sockets.add(socket);
  nsConnects.add(1, { namespace: socket.nsp.name });
  log.write('ns_connect', { client: conn.client, namespace: socket.nsp.name, sid: socket.id });
  socket.onAny((event, ...args) => {
    events.add();
    // An acknowledgement callback, if the client asked for one, is answered
    // with the same arguments; the echo itself carries the data only.
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    socket.emit(event, ...args);
    if (ack) ack(...args);
  });
  socket.once('disconnect', (reason) => {
    sockets.delete(socket);
    // The namespace's reason says why the session ended better than the
    // transport's ("server shutting down" rather than "forced close").
    conn.reason ??= reason;
    nsDisconnects.add(1, { reason });
    log.write('ns_disconnect', { client: conn.client, namespace: socket.nsp.name, reason });
  });
}

io.of('/').on('connection', onNamespaceConnect);
io.of(/^\/.+$/).on('connection', onNamespaceConnect);

// kick disconnects up to ?count=N sockets (all by default) the way an app
// kicks a client: socket.disconnect(true) sends the disconnect packet and
// closes the connection.
function kick(req, res, url) {
  const count = url.searchParams.get('count');
  if (count !== null && !/^\d+$/.test(count)) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('count wants a whole number\n');
    return;
  }
  const want = count === null ? Infinity : Number(count);
  let done = 0;
  for (const socket of [...sockets]) {
    if (done >= want) break;
    socket.disconnect(true);
    done++;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${done}\n`);
}

serve({
  httpServer,
  port: flags.port,
  log,
  ledger,
  // io.close() ends every namespace socket with "server shutting down", closes
  // each Engine.IO session's WebSocket and then the HTTP server.
  shutdown: () => io.close(),
});
