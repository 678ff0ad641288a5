'use strict';
// The backend's event log: one JSON object a line, appended with a
// synchronous write so that each line is on disk before the process can exit.

const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

// nowMs is wall-clock time in ms since the Unix epoch with a sub-ms fraction,
// taken from the monotonic clock so that lines of one process never go back.
function nowMs() {
  return performance.timeOrigin + performance.now();
}

class EventLog {
  constructor(file, backend) {
    this.fd = fs.openSync(file, 'a');
    this.backend = backend;
  }

  // write appends one event; fields come after the common ones.
  write(ev, fields = {}) {
    const line = { t: nowMs(), ev, backend: this.backend, pid: process.pid, ...fields };
    fs.writeSync(this.fd, JSON.stringify(line) + '\n');
  }
}

module.exports = { EventLog, nowMs };
