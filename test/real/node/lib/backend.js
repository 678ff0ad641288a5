'use strict';
// What both test backends share: their command line, their HTTP routes
// (/metrics and the app's own), listening on loopback, and the SIGTERM
// sequence with its log lines and exit codes.

const { parseArgs } = require('node:util');

// A backend that has not finished shutting down this long after SIGTERM exits 1.
const SHUTDOWN_DEADLINE_MS = 20000;

// parseFlags reads --port, --name, --log and the extra flags given as
// { flag: defaultNumber }; a bad command line exits 2.
function parseFlags(argv, extra = {}) {
  const options = { port: { type: 'string' }, name: { type: 'string' }, log: { type: 'string' } };
  for (const flag of Object.keys(extra)) options[flag] = { type: 'string' };
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    usage(err.message);
  }
  for (const required of ['port', 'name', 'log']) {
    if (values[required] === undefined) usage(`--${required} is required`);
  }
  const flags = { port: toInt('port', values.port), name: values.name, log: values.log };
  for (const [flag, def] of Object.entries(extra)) {
    flags[flag] = values[flag] === undefined ? def : toInt(flag, values[flag]);
  }
  return flags;
}

function toInt(flag, text) {
  if (!/^\d+$/.test(text)) usage(`--${flag} wants a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

function usage(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

// requestHandler serves GET /metrics and the app's routes ("METHOD /path" ->
// handler(req, res, url)); everything else is 404.
function requestHandler(metrics, routes = {}) {
  return (req, res) => {
    const url = new URL(req.url, 'http://backend');
    if (req.method === 'GET' && url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
      return;
    }
    const route = routes[`${req.method} ${url.pathname}`];
    if (route) {
      route(req, res, url);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };
}

// serve listens on 127.0.0.1:port, logs "listening" and prints "ready", and
// on SIGTERM logs "shutdown", runs shutdown() (the library's own way of
// ending its sessions), waits for every tracked connection's close, logs
// "exit" and exits 0. A second signal or the deadline exits 1.
function serve({ httpServer, port, log, ledger, shutdown }) {
  httpServer.once('error', (err) => {
    logError(log, 'listen', err);
    quit(1, 'listen');
  });
  httpServer.listen(port, '127.0.0.1', () => {
    log.write('listening', { port });
    process.stdout.write('ready\n');
  });
  let stopping = false;
  const onSignal = async (signal) => {
    if (stopping) quit(1, `second ${signal}`);
    stopping = true;
    log.write('shutdown', { signal, open: ledger.open.size });
    setTimeout(() => quit(1, 'deadline'), SHUTDOWN_DEADLINE_MS);
    try {
      await shutdown();
      await ledger.drained();
    } catch (err) {
      logError(log, 'shutdown', err);
      quit(1, 'shutdown');
    }
    log.write('exit', { code: 0 });
    process.exit(0);
  };
  // quit exits early; the connections still open end with the process.
  const quit = (code, why) => {
    const open = ledger.open.size;
    ledger.abandon(`exit: ${why}`);
    log.write('exit', { code, why, open });
    process.exit(code);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    logError(log, 'uncaught', err);
    quit(1, 'uncaught');
  });
}

function logError(log, during, err) {
  log.write('error', { during, message: String(err && err.stack ? err.stack : err) });
}

module.exports = { parseFlags, requestHandler, serve };
