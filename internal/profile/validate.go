package profile

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/backoff"
)

// Limits of a profile's values.
const (
	MaxDuration     = 24 * time.Hour
	MaxNodes        = 64
	MaxClients      = 1_000_000
	MinPayloadBytes = 8 // the client stamps an 8-byte send time into each message
	MaxPayloadBytes = 1 << 20
	MinReadLimit    = 125 // the largest control frame's payload
	MaxReadLimit    = 1 << 30
	MaxProfileBytes = 1 << 20 // larger files are not profiles
)

// Validate checks a profile built or changed in code, with the rules Parse
// applies. It applies no defaults: every chaos step needs its code, and keys
// that do not belong to a step's action must be zero. It expands no ${NAME}:
// target.url and the header values are taken as they are. The error, if any,
// is an Errors without file or line.
func (p *Profile) Validate() error {
	d := newDecoder("")
	for i, s := range p.Chaos {
		d.markStepKeys(i, s)
	}
	(&checker{p: p, d: d, env: osEnvironment()}).check()
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

// checker validates a profile whose keys d decoded, adding every problem to
// d.errs.
type checker struct {
	p   *Profile
	d   *decoder
	env environment
	// written holds target.url and the header values as written, before
	// ${NAME} expansion, by key; messages quote these, never what the
	// environment gave.
	written map[string]string
}

func (c *checker) check() {
	c.top()
	c.target()
	c.fleet()
	c.session()
	c.protocol()
	c.client()
	c.replies()
	c.reconnect()
	c.chaos()
	c.thresholds()
	c.compareTable()
	c.detect()
	c.sweep()
	if len(c.d.errs) == 0 {
		c.p.Warnings = c.returns()
	}
	// No message may show a secret, whatever it quotes.
	for _, e := range append(c.d.errs, c.p.Warnings...) {
		e.Msg = c.p.Redact(e.Msg)
	}
}

// bad reports a problem with the key at path.
func (c *checker) bad(path []string, format string, args ...any) {
	c.badAt(path, path, format, args...)
}

// badAt reports a problem with the key at path at the line of the key at
// where: path itself, or the table a missing key belongs in. Keys that failed
// to decode already have their error.
func (c *checker) badAt(path, where []string, format string, args ...any) {
	c.report(keyString(path), keyString(where), fmt.Sprintf(format, args...))
}

// report is badAt with keys written by keyString.
func (c *checker) report(k, where, msg string) {
	if c.d.failed[k] {
		return
	}
	if c.d.scaled[k] {
		msg += c.d.scaleNote
	}
	c.d.errs = append(c.d.errs, c.at(k, where, msg))
}

// at is the Error of msg about the key k, at the line of where: in the
// file, or in an override.
func (c *checker) at(k, where, msg string) *Error {
	src, ok := c.d.seen[where]
	e := &Error{File: c.d.file, Line: src.line, Key: k, Msg: msg}
	if ok && src.set {
		e.File, e.Line = SetFile, 0
	}
	return e
}

// dflt marks a value in a message as the default when the profile left the
// key at path out.
func (c *checker) dflt(path ...string) string {
	if c.d.given(path...) {
		return ""
	}
	return " (the default)"
}

func (c *checker) durationOK() bool {
	d := c.p.Duration.D()
	return d > 0 && d <= MaxDuration
}

func (c *checker) nodesOK() bool { return c.p.Target.Nodes >= 1 && c.p.Target.Nodes <= MaxNodes }

// notNegative reports a negative duration at path.
func (c *checker) notNegative(d Duration, path ...string) {
	if d.D() < 0 {
		c.bad(path, "%v is negative: use 0s or more", d.D())
	}
}

func (c *checker) top() {
	p := c.p
	if msg := nameProblem(p.Name); msg != "" {
		if !c.d.given("name") {
			msg = fmt.Sprintf("%q, from the file name, %s; add a name key", p.Name, msg)
		} else {
			msg = fmt.Sprintf("%q %s", p.Name, msg)
		}
		c.bad([]string{"name"}, "%s", msg)
	}
	switch d := p.Duration.D(); {
	case d <= 0:
		c.bad([]string{"duration"}, `%v is too short: a run needs a duration above 0, e.g. "45s"`, d)
	case d > MaxDuration:
		c.bad([]string{"duration"}, "%v is longer than the maximum of 24h: split the run", d)
	}
}

// nameProblem says what is wrong with a profile name, which names the run's
// results directory.
func nameProblem(name string) string {
	const use = "use only letters, digits, '.', '_' and '-', since it names the results directory"
	switch name {
	case "":
		return "is empty: " + use
	case ".", "..":
		return "is not a valid name: " + use + ", and not . or .. alone"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isBareKeyByte(c) && c != '.' {
			return "is not a valid name: " + use
		}
	}
	return ""
}

func (c *checker) target() {
	t := c.p.Target
	switch t.Mode {
	case ModeEmbedded:
		c.embeddedOnly()
	case ModeExternal:
		c.external()
		c.handshakeExtras()
		return // the embedded target's keys are errors, their values moot
	case ModeProxy:
		c.proxy()
	default:
		modes := []string{ModeEmbedded, ModeExternal, ModeProxy}
		c.bad([]string{"target", "mode"}, `%q is not a target mode; use %s%s`, t.Mode, orList(modes), didYouMean(t.Mode, modes))
	}
	c.handshakeExtras()
	if !c.nodesOK() {
		c.bad([]string{"target", "nodes"}, "%d is out of range: use 1 to %d nodes", t.Nodes, MaxNodes)
	}
	if _, port, err := net.SplitHostPort(t.Listen); err != nil || !validPort(port) {
		c.bad([]string{"target", "listen"}, `%q is not host:port: write e.g. "127.0.0.1:0" (port 0 picks a free port)`, t.Listen)
	}
	if t.Mode == ModeProxy {
		return
	}
	cp := t.Capacity
	if r := cp.AcceptRate; !(r >= 0) || math.IsInf(r, 0) {
		c.bad([]string{"target", "capacity", "accept_rate"}, "%v is not a rate: use handshakes per second per node, or 0 for unlimited", r)
	}
	if cp.AcceptBurst < 0 {
		c.bad([]string{"target", "capacity", "accept_burst"}, "%d is negative: use 0 (one second's worth of accept_rate) or more", cp.AcceptBurst)
	}
	if cp.MaxConns < 0 {
		c.bad([]string{"target", "capacity", "max_conns"}, "%d is negative: use 0 (unlimited) or more", cp.MaxConns)
	}
	c.notNegative(cp.HandshakeDelay, "target", "capacity", "handshake_delay")
	c.notNegative(cp.RetryAfter, "target", "capacity", "retry_after")
}

func validPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

func (c *checker) fleet() {
	f := c.p.Fleet
	if f.Clients < 1 || f.Clients > MaxClients {
		c.bad([]string{"fleet", "clients"}, "%d is out of range: use 1 to %d clients", f.Clients, MaxClients)
	}
	if f.MaxDialing < 0 {
		c.bad([]string{"fleet", "max_dialing"}, "%d is negative: give the most dials in flight at once, or 0 for as many as the open-file limit allows", f.MaxDialing)
	}
	switch ramp := f.Ramp.D(); {
	case ramp < 0:
		c.notNegative(f.Ramp, "fleet", "ramp")
	case c.durationOK() && ramp >= c.p.Duration.D():
		c.bad([]string{"fleet", "ramp"}, "%v%s is not shorter than the run's duration %v: shorten ramp or lengthen duration",
			ramp, c.dflt("fleet", "ramp"), c.p.Duration.D())
	}
	if _, err := ParseSourceAddrs(f.SourceAddrs); err != nil {
		c.bad([]string{"fleet", "source_addrs"}, "%v", err)
	}
	if f.HandshakeTimeout.D() <= 0 {
		c.bad([]string{"fleet", "handshake_timeout"}, `%v is too short: use a timeout above 0, e.g. "5s"`, f.HandshakeTimeout.D())
	}
	s := f.Session
	switch {
	case f.ReadLimit < MinReadLimit || f.ReadLimit > MaxReadLimit:
		c.bad([]string{"fleet", "read_limit"}, "%d is out of range: use %d (the largest control frame) to %d bytes (1 GiB)",
			f.ReadLimit, MinReadLimit, MaxReadLimit)
	case c.p.Target.Mode == ModeEmbedded && s.SendInterval.D() > 0 && f.ReadLimit < s.PayloadBytes && s.PayloadBytes <= MaxPayloadBytes:
		c.bad([]string{"fleet", "read_limit"}, "%d%s is below fleet.session.payload_bytes %d%s: the target's echo of every message would be too large to read; raise read_limit",
			f.ReadLimit, c.dflt("fleet", "read_limit"), s.PayloadBytes, c.dflt("fleet", "session", "payload_bytes"))
	}
	if f.WriteTimeout.D() <= 0 {
		c.bad([]string{"fleet", "write_timeout"}, `%v is too short: use a timeout above 0, e.g. "5s"`, f.WriteTimeout.D())
	} else if f.WriteTimeout.D() > MaxWriteTimeout {
		c.bad([]string{"fleet", "write_timeout"}, `%v is too long: a blocked write holds a client this long; use at most %v`, f.WriteTimeout.D(), MaxWriteTimeout)
	}
	if s.SendInterval.D() < 0 {
		c.bad([]string{"fleet", "session", "send_interval"}, "%v is negative: use 0s to send nothing, or the time between messages", s.SendInterval.D())
	}
	if s.PayloadBytes < MinPayloadBytes || s.PayloadBytes > MaxPayloadBytes {
		c.bad([]string{"fleet", "session", "payload_bytes"}, "%d is out of range: use %d to %d bytes (each message carries an 8-byte send time)",
			s.PayloadBytes, MinPayloadBytes, MaxPayloadBytes)
	}
	c.notNegative(s.Lifetime, "fleet", "session", "lifetime")
	c.notNegative(s.Pause, "fleet", "session", "pause")
}

func (c *checker) reconnect() {
	r := c.p.Fleet.Reconnect
	key := func(name ...string) []string { return join([]string{"fleet", "reconnect"}, name...) }
	if !backoff.Known(r.Strategy) {
		names := backoff.Names()
		c.bad(key("strategy"), "%q is not a strategy: use %s%s", r.Strategy, orList(names), didYouMean(r.Strategy, names))
	} else if pr := backoff.Check(r.Strategy, r.BackoffParams()); pr != nil {
		c.bad(key(pr.Param), "%s", pr.Message(func(param string) string { return c.dflt(key(param)...) }))
	}
	c.notNegative(r.FirstDelay, key("first_delay")...)
	if r.MaxAttempts < 0 {
		c.bad(key("max_attempts"), "%d is negative: use 0 for unlimited attempts, or a limit", r.MaxAttempts)
	}
	codes := make([]string, 0, len(r.OnClose))
	for code := range r.OnClose {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		if n, err := strconv.Atoi(code); err != nil || strconv.Itoa(n) != code || n < 1000 || n > 4999 {
			c.bad(key("on_close", code), `%q is not a close code: use an integer from 1000 to 4999, e.g. "4000" = "stop"`, code)
		}
		if a := r.OnClose[code]; a != OnCloseReconnect && a != OnCloseStop {
			c.bad(key("on_close", code), `%q is not an action: use "reconnect" or "stop"`, a)
		}
	}
	if a := r.OnCloseDefault; a != OnCloseReconnect && a != OnCloseStop {
		c.bad(key("on_close_default"), `%q is not an action: use "reconnect" or "stop"`, a)
	}
}

// failedUnder reports whether a key under path failed to decode.
func (c *checker) failedUnder(path []string) bool {
	prefix := keyString(path) + "."
	for k := range c.d.failed {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func didYouMean(word string, candidates []string) string {
	if s := closest(word, candidates); s != "" && s != word {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// orList writes "a, b or c" with each item quoted.
func orList(items []string) string { return list(items, "or", true) }

// andList writes "a, b and c".
func andList(items []string) string { return list(items, "and", false) }

func list(items []string, conj string, quote bool) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = s
		if quote {
			q[i] = strconv.Quote(s)
		}
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// thresholds checks every [thresholds] entry against the grammar.
func (c *checker) thresholds() {
	metrics := make([]string, 0, len(c.p.Thresholds))
	for m := range c.p.Thresholds {
		metrics = append(metrics, m)
	}
	slices.Sort(metrics)
	for _, m := range metrics {
		if _, err := ParseThreshold(m, c.p.Thresholds[m]); err != nil {
			c.bad([]string{"thresholds", m}, "%v", err)
		}
	}
}
