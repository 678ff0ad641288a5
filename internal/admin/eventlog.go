package admin

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wsstorm/wsstorm/internal/action"
)

const (
	// flushInterval is how often the log's buffer is written out.
	flushInterval = 200 * time.Millisecond
	// flushSize wakes the writer early once this much is buffered.
	flushSize = 64 << 10
	// maxPending bounds the buffer: past it, events wait for the writer
	// rather than be lost, so the log's counts are exact.
	maxPending = 4 << 20
)

// EventLog writes a server's timeline to an io.Writer, one JSON object per
// line:
//
//	{"t":1.250000000,"event":"accept","node":0,"conn":17,"uri":"/?client=3&token=[redacted]"}
//	{"t":3.000412345,"event":"close","node":0,"conn":17,"code":1012,"by":"restart"}
//
// t is the time since NewEventLog in seconds, on the monotonic clock, with
// nanosecond digits. Events are buffered in memory and written every 200 ms
// and by Close, so the servers' goroutines never wait for the writer unless
// it falls 4 MiB behind. A nil *EventLog logs nothing. The methods are safe
// for concurrent use.
//
// Its Accepted, Closed, Disconnected and Rejected methods make it a
// target.EventLog.
type EventLog struct {
	origin time.Time
	// keepQuery are the query keys whose values "accept" logs; the
	// others' are redacted. Read-only after NewEventLog.
	keepQuery map[string]bool

	mu     sync.Mutex
	room   *sync.Cond // signalled when the writer takes the buffer
	buf    []byte
	closed bool

	w     io.Writer
	werr  error // the first write error; the writer's own until done closes
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

// LogOption configures an EventLog.
type LogOption func(*EventLog)

// LogQueryKeys names the query keys whose values the log's "accept" lines
// keep, replacing the default, client and session (wsstorm's {{client}} and
// {{session}}, to match a client's connections). Every other key's values
// are logged as "[redacted]", so a token in the URL stays out of the log;
// no keys redacts every value.
func LogQueryKeys(keys ...string) LogOption {
	return func(l *EventLog) {
		l.keepQuery = make(map[string]bool, len(keys))
		for _, k := range keys {
			l.keepQuery[k] = true
		}
	}
}

// NewEventLog starts a log that writes to w; t counts from now. Close it to
// write the last events.
func NewEventLog(w io.Writer, opts ...LogOption) *EventLog {
	l := &EventLog{
		origin:    time.Now(),
		keepQuery: map[string]bool{"client": true, "session": true},
		w:         w,
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	for _, o := range opts {
		o(l)
	}
	l.room = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Close writes the events logged so far and stops the log; later events are
// dropped. It returns the first error writing to w. It does not close w.
func (l *EventLog) Close() error {
	if l == nil {
		return nil
	}
	l.close.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.room.Broadcast()
		l.mu.Unlock()
		close(l.stop)
	})
	<-l.done
	return l.werr
}

// run writes the buffer out every flushInterval, when kicked, and at Close.
func (l *EventLog) run() {
	defer close(l.done)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	var spare []byte
	for {
		stopping := false
		select {
		case <-tick.C:
		case <-l.kick:
		case <-l.stop:
			stopping = true
		}
		l.mu.Lock()
		out := l.buf
		l.buf = spare[:0]
		l.room.Broadcast()
		l.mu.Unlock()
		if len(out) > 0 && l.werr == nil {
			_, l.werr = l.w.Write(out)
		}
		spare = out
		if stopping {
			return
		}
	}
}

// line is one event being written: begin starts it with t and the event's
// name, the append methods add fields, end finishes and releases the log.
type line struct {
	l *EventLog
	b []byte
}

// begin locks the log and starts a line; ok is false, and nothing is
// locked, if the log is nil or closed.
func (l *EventLog) begin(event string) (ln line, ok bool) {
	if l == nil {
		return line{}, false
	}
	l.mu.Lock()
	for len(l.buf) >= maxPending && !l.closed {
		l.wake()
		l.room.Wait()
	}
	if l.closed {
		l.mu.Unlock()
		return line{}, false
	}
	// Taken under the lock, so t never goes back from one line to the next.
	ns := time.Since(l.origin).Nanoseconds()
	b := append(l.buf, `{"t":`...)
	b = strconv.AppendInt(b, ns/1e9, 10)
	b = append(b, '.')
	frac := strconv.AppendInt(make([]byte, 0, 9), ns%1e9, 10)
	for range 9 - len(frac) {
		b = append(b, '0')
	}
	b = append(b, frac...)
	b = append(b, `,"event":"`...)
	b = append(b, event...)
	b = append(b, '"')
	return line{l: l, b: b}, true
}

func (ln *line) int(key string, v int64) {
	ln.key(key)
	ln.b = strconv.AppendInt(ln.b, v, 10)
}

func (ln *line) uint(key string, v uint64) {
	ln.key(key)
	ln.b = strconv.AppendUint(ln.b, v, 10)
}

func (ln *line) float(key string, v float64) {
	ln.key(key)
	ln.b = strconv.AppendFloat(ln.b, v, 'f', -1, 64)
}

func (ln *line) seconds(key string, d time.Duration) {
	ln.key(key)
	ln.b = strconv.AppendFloat(ln.b, d.Seconds(), 'f', 9, 64)
}

func (ln *line) str(key, v string) {
	ln.key(key)
	ln.b = appendJSONString(ln.b, v)
}

func (ln *line) key(k string) {
	ln.b = append(ln.b, ',', '"')
	ln.b = append(ln.b, k...)
	ln.b = append(ln.b, '"', ':')
}

// end finishes the line and unlocks the log.
func (ln *line) end() {
	l := ln.l
	l.buf = append(ln.b, '}', '\n')
	if len(l.buf) >= flushSize {
		l.wake()
	}
	l.mu.Unlock()
}

// wake asks the writer to write the buffer now.
func (l *EventLog) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Serving logs "start": the server is up at url with nodes nodes; time is
// the wall clock, to line the log up with other records.
func (l *EventLog) Serving(url string, nodes int) { l.serving(url, -1, nodes) }

// ServingFrom logs "start" as Serving does, with "first_node": the server
// is one part of a target shared by several, and numbers its nodes from
// first.
func (l *EventLog) ServingFrom(url string, first, nodes int) { l.serving(url, first, nodes) }

// serving logs "start"; first < 0 leaves "first_node" out.
func (l *EventLog) serving(url string, first, nodes int) {
	if ln, ok := l.begin("start"); ok {
		ln.str("time", time.Now().UTC().Format(time.RFC3339Nano))
		ln.str("url", url)
		if first >= 0 {
			ln.int("first_node", int64(first))
		}
		ln.int("nodes", int64(nodes))
		ln.end()
	}
}

// ShuttingDown logs "shutdown": the server is stopping, and closes its
// clients.
func (l *EventLog) ShuttingDown() {
	if ln, ok := l.begin("shutdown"); ok {
		ln.end()
	}
}

// Accepted logs "accept" with the request's path and query as "uri", the
// values of the query keys not named by LogQueryKeys redacted.
func (l *EventLog) Accepted(node int, conn uint64, r *http.Request) {
	if l == nil {
		return
	}
	uri := l.redactURI(r) // before begin: the log stays locked for less
	if ln, ok := l.begin("accept"); ok {
		ln.int("node", int64(node))
		ln.uint("conn", conn)
		ln.str("uri", uri)
		ln.end()
	}
}

// redacted replaces a query value the log does not keep.
const redacted = "[redacted]"

// redactURI is r's path and query as the client sent them, with the values
// of the query keys the log does not keep replaced by "[redacted]". Keys,
// their order and the kept values are left as they were.
func (l *EventLog) redactURI(r *http.Request) string {
	uri := r.RequestURI // as the client sent it, on a server's request
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	path, query, hasQuery := strings.Cut(uri, "?")
	if !strings.HasPrefix(path, "/") {
		// An absolute-form request (http://user:pass@host/...): its path
		// only.
		path = r.URL.EscapedPath()
	}
	if query == "" {
		if hasQuery {
			return path + "?"
		}
		return path
	}
	var b strings.Builder
	b.Grow(len(uri) + 16)
	b.WriteString(path)
	b.WriteByte('?')
	for i, part := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		key, _, hasValue := strings.Cut(part, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		if !hasValue || l.keepQuery[name] {
			b.WriteString(part)
			continue
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(redacted)
	}
	return b.String()
}

// Closed logs "close": the server sent a close frame with code; by says why
// ("restart", "close", "shutdown").
func (l *EventLog) Closed(node int, conn uint64, code int, by string) {
	if ln, ok := l.begin("close"); ok {
		ln.int("node", int64(node))
		ln.uint("conn", conn)
		ln.int("code", int64(code))
		ln.str("by", by)
		ln.end()
	}
}

// Disconnected logs "disconnect": the connection ended without the server
// closing it; code is the client's close code, 1006 if it sent none.
func (l *EventLog) Disconnected(node int, conn uint64, code int) {
	if ln, ok := l.begin("disconnect"); ok {
		ln.int("node", int64(node))
		ln.uint("conn", conn)
		ln.int("code", int64(code))
		ln.end()
	}
}

// Rejected logs "reject": a handshake refused with status.
func (l *EventLog) Rejected(node int, status int) {
	if ln, ok := l.begin("reject"); ok {
		ln.int("node", int64(node))
		ln.int("status", int64(status))
		ln.end()
	}
}

// RestartStarted logs "restart_start" with the restart's node (its number),
// code, reason, drain_s and downtime_s.
func (l *EventLog) RestartStarted(node int, spec action.RestartParams) {
	if ln, ok := l.begin("restart_start"); ok {
		ln.int("node", int64(node))
		ln.int("code", int64(spec.Code))
		ln.str("reason", spec.Reason)
		ln.seconds("drain_s", spec.Drain)
		ln.seconds("downtime_s", spec.Downtime)
		ln.end()
	}
}

// RestartEnded logs "restart_end": the node accepts again (or the restart
// failed: "error"), after closing closed connections in took.
func (l *EventLog) RestartEnded(node int, closed int, took time.Duration, err error) {
	if ln, ok := l.begin("restart_end"); ok {
		ln.int("node", int64(node))
		ln.int("closed", int64(closed))
		ln.seconds("duration_s", took)
		if err != nil {
			ln.str("error", err.Error())
		}
		ln.end()
	}
}

// CloseStarted logs "close_fraction": a share of the connections is about
// to be closed; the "close" events with "by":"close" that follow are them.
func (l *EventLog) CloseStarted(spec action.CloseParams, seed uint64) {
	if ln, ok := l.begin("close_fraction"); ok {
		ln.float("fraction", spec.Fraction)
		ln.int("code", int64(spec.Code))
		ln.str("reason", spec.Reason)
		ln.uint("seed", seed)
		ln.end()
	}
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// NodeDown logs "node_down": a node taken out of service, and how the
// handshakes it completes meanwhile end.
func (l *EventLog) NodeDown(node int, e action.Ending) {
	if ln, ok := l.begin("node_down"); ok {
		ln.int("node", int64(node))
		ln.ending(e)
		ln.end()
	}
}

// NodeUp logs "node_up": a node back in service (or not: "error"), with the
// connections ended for completing their handshake while it was down; by
// is "lease" when the server put it back on its own.
func (l *EventLog) NodeUp(node, late int, by string, err error) {
	if ln, ok := l.begin("node_up"); ok {
		ln.int("node", int64(node))
		ln.int("late", int64(late))
		ln.by(by)
		ln.err(err)
		ln.end()
	}
}

// EndStarted logs "end_start": connections of node (-1: of every node) are
// about to end as e says, spread over spread; the "close" events that
// follow are them.
func (l *EventLog) EndStarted(node int, p action.Pick, e action.Ending, spread time.Duration) {
	if ln, ok := l.begin("end_start"); ok {
		ln.int("node", int64(node))
		if p.Fraction > 0 {
			ln.float("fraction", p.Fraction)
			ln.uint("seed", p.Seed)
		}
		ln.ending(e)
		ln.seconds("spread_s", spread)
		ln.end()
	}
}

// EndDone logs "end_done": how many connections an end ended, in took.
func (l *EventLog) EndDone(node, ended int, took time.Duration, err error) {
	if ln, ok := l.begin("end_done"); ok {
		ln.int("node", int64(node))
		ln.int("ended", int64(ended))
		ln.seconds("duration_s", took)
		ln.err(err)
		ln.end()
	}
}

// Frozen logs "freeze": a node's traffic stopped, holding frozen open
// connections.
func (l *EventLog) Frozen(node, frozen int, err error) {
	if ln, ok := l.begin("freeze"); ok {
		ln.int("node", int64(node))
		ln.int("frozen", int64(frozen))
		ln.err(err)
		ln.end()
	}
}

// Thawed logs "thaw": a node's traffic resumed; by is "lease" when the
// server thawed it on its own.
func (l *EventLog) Thawed(node int, by string, err error) {
	if ln, ok := l.begin("thaw"); ok {
		ln.int("node", int64(node))
		ln.by(by)
		ln.err(err)
		ln.end()
	}
}

// by writes "by" when by is not "".
func (ln *line) by(by string) {
	if by != "" {
		ln.str("by", by)
	}
}

// ending writes how connections end: "drop": true, or the code and reason.
func (ln *line) ending(e action.Ending) {
	if e.Drop {
		ln.key("drop")
		ln.b = append(ln.b, "true"...)
		return
	}
	ln.int("code", int64(e.Code))
	ln.str("reason", e.Reason)
}

// err writes "error" when err is not nil.
func (ln *line) err(err error) {
	if err != nil {
		ln.str("error", err.Error())
	}
}
