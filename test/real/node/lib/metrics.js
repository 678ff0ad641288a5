'use strict';
// Counters and gauges in the Prometheus text format, for GET /metrics.

function escapeLabel(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels) {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',') + '}';
}

class Metric {
  constructor(name, type, help, labelled) {
    this.name = name;
    this.type = type;
    this.help = help;
    this.labelled = labelled;
    this.values = new Map(); // label text -> number
  }

  add(n = 1, labels = {}) {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) || 0) + n);
  }

  render() {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    // An unlabelled metric is shown at 0 before its first event, so a scrape
    // always finds it.
    if (this.values.size === 0 && !this.labelled) lines.push(`${this.name} 0`);
    for (const [key, v] of this.values) lines.push(`${this.name}${key} ${v}`);
    return lines.join('\n');
  }
}

class Metrics {
  constructor() {
    this.all = [];
  }

  // counter declares a counter; labelled says its series carry labels.
  counter(name, help, labelled = false) {
    return this.register(new Metric(name, 'counter', help, labelled));
  }

  gauge(name, help) {
    return this.register(new Metric(name, 'gauge', help, false));
  }

  register(m) {
    this.all.push(m);
    return m;
  }

  render() {
    return this.all.map((m) => m.render()).join('\n') + '\n';
  }
}

module.exports = { Metrics };
