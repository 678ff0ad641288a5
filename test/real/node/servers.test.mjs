// Tests of the two real-server backends: each is started on a free loopback
// port, real clients talk to it, and what the clients saw is checked against
// the backend's log and /metrics, through SIGTERM to its exit.
//
//   node --test test/real/node/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';

const here = path.dirname(fileURLToPath(import.meta.url));

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

// withTimeout rejects if promise has not settled within ms.
function withTimeout(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// startBackend runs a backend script and resolves once it prints "ready".
async function startBackend(t, script, extraArgs = []) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsstorm-real-'));
  const logFile = path.join(dir, 'events.jsonl');
  const args = [path.join(here, script), '--port', String(port), '--name', 'b1', '--log', logFile, ...extraArgs];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(proc, 'exit').then(([code, signal]) => ({ code, signal }));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ready\n')) resolve();
    });
    exited.then(({ code }) => reject(new Error(`${script} exited ${code} before ready`)));
  });
  await withTimeout(ready, 5000, `${script} ready`);
  return { port, proc, exited, logFile, events: () => readEvents(logFile) };
}

function readEvents(logFile) {
  return fs.readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

async function scrape(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  const values = {};
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    values[line.slice(0, cut)] = Number(line.slice(cut + 1));
  }
  return values;
}

// closeOf resolves with the code and reason of a ws client's close.
function closeOf(ws) {
  return once(ws, 'close').then(([code, reason]) => ({ code, reason: reason.toString() }));
}

// rawEngineIO is what wsstorm does: Engine.IO 4 over a bare WebSocket, the
// namespace connect, and (unless silent) a pong for each ping.
async function rawEngineIO(port, client, { silent = false } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&client=${client}`);
  const received = [];
  const closed = closeOf(ws);
  const joined = new Promise((resolve) => {
    ws.on('message', (data) => {
      const packet = data.toString();
      received.push(packet);
      if (packet.startsWith('0{')) ws.send('40');
      else if (packet.startsWith('40{')) resolve();
      else if (packet === '2' && !silent) ws.send('3');
    });
  });
  await withTimeout(joined, 3000, `client ${client} namespace connect`);
  return { ws, received, closed };
}

function disconnectOf(events, client) {
  const found = events.filter((e) => e.ev === 'disconnect' && e.client === client);
  assert.equal(found.length, 1, `one disconnect line for client ${client}`);
  return found[0];
}

// loggedDisconnect waits for a running backend to log a client's disconnect:
// the server sees the close after the client does.
async function loggedDisconnect(b, client) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const found = b.events().filter((e) => e.ev === 'disconnect' && e.client === client);
    if (found.length > 0) return disconnectOf(b.events(), client);
    if (Date.now() > deadline) assert.fail(`no disconnect line for client ${client}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function assertCleanExit(events) {
  const evs = events.map((e) => e.ev);
  assert.equal(evs[0], 'listening');
  assert.ok(evs.indexOf('shutdown') < evs.lastIndexOf('disconnect'), 'disconnects are logged after shutdown');
  assert.deepEqual(events.at(-1).ev, 'exit');
  assert.equal(events.at(-1).code, 0);
  for (const e of events) {
    assert.equal(e.backend, 'b1');
    assert.equal(typeof e.pid, 'number');
    assert.ok(e.t > 1.6e12, 'ms since the epoch');
  }
}

test('socket.io: echo, kick with /admin/disconnect, io.close() at SIGTERM', async (t) => {
  const b = await startBackend(t, 'socketio-server.js', ['--ping-interval', '300', '--ping-timeout', '300']);

  const kicked = await rawEngineIO(b.port, '8');
  const sio = ioClient(`http://127.0.0.1:${b.port}/chat`, {
    transports: ['websocket'],
    query: { client: '7' },
    reconnection: false,
  });
  t.after(() => sio.close());
  await withTimeout(once(sio, 'connect'), 3000, 'socket.io-client connect');
  const echo = once(sio, 'hello');
  sio.emit('hello', 1, { a: [2] });
  assert.deepEqual(await withTimeout(echo, 3000, 'echo'), [1, { a: [2] }]);
  assert.deepEqual(await sio.emitWithAck('ask', 'x'), 'x');
  const raw = await rawEngineIO(b.port, '9');

  // Longer than ping interval + timeout: clients that answer pings stay.
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.ok(raw.received.includes('2'), 'the server pinged');

  const res = await fetch(`http://127.0.0.1:${b.port}/admin/disconnect?count=1`, { method: 'POST' });
  assert.equal(await res.text(), '1\n');
  assert.deepEqual(await withTimeout(kicked.closed, 3000, 'kicked close'), { code: 1005, reason: '' });
  assert.equal(kicked.received.at(-1), '41', 'the disconnect packet came before the close');
  const kick = await loggedDisconnect(b, '8');
  assert.deepEqual([kick.code, kick.reason, kick.initiator], [1005, 'server namespace disconnect', 'server']);

  const m = await scrape(b.port);
  assert.equal(m.wsstorm_real_connects_total, 3);
  assert.equal(m.wsstorm_real_connected, 2);
  assert.equal(m['wsstorm_real_disconnects_total{code="1005"}'], 1);
  assert.equal(m['wsstorm_real_socketio_namespace_connects_total{namespace="/"}'], 2);
  assert.equal(m['wsstorm_real_socketio_namespace_connects_total{namespace="/chat"}'], 1);
  assert.equal(m['wsstorm_real_socketio_namespace_disconnects_total{reason="server namespace disconnect"}'], 1);
  assert.equal(m.wsstorm_real_socketio_events_total, 2);

  const sioGone = once(sio, 'disconnect');
  b.proc.kill('SIGTERM');
  assert.deepEqual(await withTimeout(raw.closed, 5000, 'close at SIGTERM'), { code: 1005, reason: '' });
  const [reason, details] = await withTimeout(sioGone, 5000, 'socket.io-client disconnect');
  assert.equal(reason, 'transport close');
  assert.equal(details.context.code, 1005);
  assert.deepEqual(await withTimeout(b.exited, 5000, 'exit'), { code: 0, signal: null });

  const events = b.events();
  assertCleanExit(events);
  const connect = events.find((e) => e.ev === 'connect' && e.client === '7');
  assert.equal(typeof connect.remote_port, 'number');
  assert.ok(events.some((e) => e.ev === 'ns_connect' && e.client === '7' && e.namespace === '/chat'));
  for (const client of ['7', '9']) {
    const d = disconnectOf(events, client);
    assert.deepEqual([d.code, d.reason, d.initiator], [1005, 'server shutting down', 'server']);
  }
});

test('socket.io: a client that does not answer pings is dropped at the timeout', async (t) => {
  const b = await startBackend(t, 'socketio-server.js', ['--ping-interval', '200', '--ping-timeout', '200']);
  const silent = await rawEngineIO(b.port, '3', { silent: true });
  const polite = await rawEngineIO(b.port, '4');
  t.after(() => polite.ws.terminate());
  assert.deepEqual(await withTimeout(silent.closed, 3000, 'ping timeout close'), { code: 1005, reason: '' });
  const d = await loggedDisconnect(b, '3');
  assert.deepEqual([d.code, d.reason, d.initiator], [1005, 'ping timeout', 'server']);
  assert.equal(polite.ws.readyState, WebSocket.OPEN);
});

// graphqlWS opens a graphql-transport-ws session and waits for the ack.
async function graphqlWS(port, client) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql?client=${client}`, 'graphql-transport-ws');
  const messages = [];
  const closed = closeOf(ws);
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await withTimeout(once(ws, 'open'), 3000, 'open');
  assert.equal(ws.protocol, 'graphql-transport-ws');
  ws.send(JSON.stringify({ type: 'connection_init' }));
  const next = (pred, what) =>
    withTimeout(
      new Promise((resolve) => {
        const look = () => {
          const m = messages.find(pred);
          if (m) resolve(m);
          else ws.once('message', () => setImmediate(look));
        };
        look();
      }),
      3000,
      what,
    );
  await next((m) => m.type === 'connection_ack', 'connection_ack');
  return { ws, messages, closed, next };
}

test('graphql-ws: init, ping, ticks, a client close, dispose() at SIGTERM', async (t) => {
  const b = await startBackend(t, 'graphqlws-server.js');
  const c = await graphqlWS(b.port, '5');
  c.ws.send(JSON.stringify({ type: 'ping' }));
  await c.next((m) => m.type === 'pong', 'pong');
  c.ws.send(JSON.stringify({
    type: 'subscribe',
    id: 's1',
    payload: { query: 'subscription T { ticks(everyMs: 100) }', operationName: 'T' },
  }));
  const tick = (n) => c.next((m) => m.id === 's1' && m.type === 'next' && m.payload.data.ticks === n, `tick ${n}`);
  await tick(0);
  await tick(2);
  c.ws.send(JSON.stringify({ type: 'subscribe', id: 'q1', payload: { query: '{ hello }' } }));
  const hello = await c.next((m) => m.id === 'q1' && m.type === 'next', 'hello');
  assert.deepEqual(hello.payload, { data: { hello: 'world' } });

  const leaver = await graphqlWS(b.port, '6');
  leaver.ws.close(1000, 'bye');
  await leaver.closed;
  const left = await loggedDisconnect(b, '6');
  assert.deepEqual([left.code, left.reason, left.initiator], [1000, 'bye', 'client']);

  const m = await scrape(b.port);
  assert.equal(m.wsstorm_real_connects_total, 2);
  assert.equal(m.wsstorm_real_connected, 1);
  assert.equal(m['wsstorm_real_disconnects_total{code="1000"}'], 1);
  assert.equal(m.wsstorm_real_graphqlws_inits_total, 2);
  assert.equal(m.wsstorm_real_graphqlws_subscriptions_total, 2);

  b.proc.kill('SIGTERM');
  assert.deepEqual(await withTimeout(c.closed, 5000, 'close at SIGTERM'), { code: 1001, reason: 'Going away' });
  assert.deepEqual(await withTimeout(b.exited, 5000, 'exit'), { code: 0, signal: null });

  const events = b.events();
  assertCleanExit(events);
  assert.ok(events.some((e) => e.ev === 'init' && e.client === '5'));
  assert.ok(events.some((e) => e.ev === 'subscribe' && e.client === '5' && e.id === 's1' && e.operation === 'T'));
  const d = disconnectOf(events, '5');
  assert.deepEqual([d.code, d.reason, d.initiator], [1001, 'Going away', 'server']);
});

// A client that completes the upgrade by hand and never answers the close
// frame holds the shutdown open (ws waits 30 s for it); a second SIGTERM ends it.
test('graphql-ws: a second SIGTERM during a shutdown that cannot finish exits 1', async (t) => {
  const b = await startBackend(t, 'graphqlws-server.js');
  const sock = net.connect(b.port, '127.0.0.1');
  t.after(() => sock.destroy());
  sock.write([
    'GET /graphql?client=11 HTTP/1.1',
    `Host: 127.0.0.1:${b.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: graphql-transport-ws',
    '', '',
  ].join('\r\n'));
  const [head] = await withTimeout(once(sock, 'data'), 3000, '101');
  assert.match(head.toString(), /^HTTP\/1\.1 101 /);

  b.proc.kill('SIGTERM');
  await withTimeout(once(sock, 'data'), 3000, 'close frame');
  b.proc.kill('SIGTERM');
  assert.deepEqual(await withTimeout(b.exited, 5000, 'exit'), { code: 1, signal: null });
  const events = b.events();
  const last = events.at(-1);
  assert.deepEqual([last.ev, last.code, last.why, last.open], ['exit', 1, 'second SIGTERM', 1]);
  // The connection that never closed is logged as ending with the process.
  const d = disconnectOf(events, '11');
  assert.deepEqual([d.code, d.reason, d.initiator, d.sent], [1006, 'exit: second SIGTERM', 'server', 1001]);
});
