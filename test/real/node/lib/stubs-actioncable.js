// Browser globals @rails/actioncable needs in Node, and why:
//
// addEventListener / removeEventListener: ConnectionMonitor's start and
// stop register a "visibilitychange" listener on the global object
// (src/connection_monitor.js), to reopen a stale connection when a page
// becomes visible again. A Node process has no page, so the listener is
// accepted and never called; without them the first connect throws.
//
// Nothing else is needed when the consumer is made with `new Consumer(url)`
// and an absolute ws:// URL: createConsumer reads a <meta> tag through
// `document`, and createWebSocketURL uses `document` only for a relative
// URL. The WebSocket class is set on `adapters.WebSocket` by the caller.
"use strict"

if (typeof globalThis.addEventListener !== "function") {
  globalThis.addEventListener = () => {}
  globalThis.removeEventListener = () => {}
}
