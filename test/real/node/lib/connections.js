'use strict';
const { nowMs } = require('./eventlog');

// ConnectionLedger logs and counts each WebSocket connection of a backend,
// from the upgrade to the close handshake, on the `ws` WebSocket that the
// library (socket.io's engine.io or graphql-ws) runs on.

// clientOf returns the `client` query parameter of an upgrade request (the
// client number wsstorm puts there), as text, or null.
function clientOf(req) {
  const url = new URL(req.url, 'http://backend');
  return url.searchParams.get('client');
}

class ConnectionLedger {
  constructor(log, metrics) {
    this.log = log;
    this.open = new Set();
    this.waiters = [];
    this.connects = metrics.counter('wsstorm_real_connects_total', 'WebSocket upgrades completed.');
    this.disconnects = metrics.counter(
      'wsstorm_real_disconnects_total',
      'WebSocket connections ended, by the close code this server saw (1005 no code, 1006 no close frame).',
      true,
    );
    this.connected = metrics.gauge('wsstorm_real_connected', 'WebSocket connections open now.');
  }

  // track starts the record of a connection whose upgrade has just completed.
  // The returned record's `reason` may be set by the app to the library's own
  // words for why the session ended; otherwise the close frame's reason is used.
  track(ws, req) {
    const conn = {
      client: clientOf(req),
      remotePort: req.socket.remotePort,
      reason: null,
      initiator: null,
      sent: null,
      sentAt: null,
    };
    this.open.add(conn);
    this.connects.add();
    this.connected.add(1);
    this.log.write('connect', { client: conn.client, remote_port: conn.remotePort });
    watchServerClose(ws, conn);
    ws.once('close', (code, reason) => this.closed(conn, code, reason));
    return conn;
  }

  closed(conn, code, reason) {
    this.open.delete(conn);
    this.connected.add(-1);
    this.disconnects.add(1, { code: String(code) });
    const fields = {
      client: conn.client,
      remote_port: conn.remotePort,
      code,
      reason: conn.reason ?? reason.toString(),
      // A close this server did not start was started by the peer: a close
      // frame from it, or its TCP connection ending (1006).
      initiator: conn.initiator ?? 'client',
    };
    if (conn.sent !== null) fields.sent = conn.sent;
    // When this server started the close: its close frame went out then (ws
    // writes it at once, lib/sender.js close), which is when the session
    // ended as the peer sees it; the 'close' event comes only once the
    // handshake and TCP are through, late when a shutdown closes hundreds.
    if (conn.sentAt !== null) fields.sent_t = conn.sentAt;
    this.log.write('disconnect', fields);
    if (this.open.size === 0) this.waiters.splice(0).forEach((resolve) => resolve());
  }

  // abandon logs every connection still open as ended by this server without
  // a close handshake (1006), for an exit that cannot wait for them.
  abandon(why) {
    for (const conn of [...this.open]) {
      conn.initiator ??= 'server';
      this.closed(conn, 1006, why);
    }
  }

  // drained resolves once no tracked connection is open.
  drained() {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

// watchServerClose marks the connection as closed by this server when the
// library calls close() or terminate() before any close frame came from the
// peer. `ws` calls close() itself to answer a peer's close frame, after
// setting _closeFrameReceived (ws 8.23.1 lib/websocket.js, receiverOnConclude);
// the library's shutdown paths call the same methods (engine.io 6.6.13
// build/transports/websocket.js doClose, graphql-ws 6.4.2 dist/use/ws.js
// dispose), so wrapping them on this instance sees every server-side start.
function watchServerClose(ws, conn) {
  const mark = (sent) => {
    if (conn.initiator !== null || ws._closeFrameReceived) return;
    if (ws.readyState !== ws.OPEN) return;
    conn.initiator = 'server';
    conn.sent = sent;
    conn.sentAt = nowMs();
  };
  const close = ws.close;
  ws.close = function closeByServer(code, data) {
    mark(code ?? 1005);
    return close.call(this, code, data);
  };
  const terminate = ws.terminate;
  ws.terminate = function terminateByServer() {
    mark(1006);
    return terminate.call(this);
  };
}

module.exports = { ConnectionLedger, clientOf };
