// Package fleet runs simulated WebSocket clients: each dials, runs its
// session script (messages to send, messages to wait for), reads the
// server's welcome, sends timed messages and pings and, when the server or
// the network ends its session, reacts to the close code as a real client
// does (come back after a backoff, or stop), recording everything through a
// stats.Shard.
package fleet
