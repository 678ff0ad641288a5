package realtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// NodeEvent is one line of a Node backend's event log (test/real/node
// lib/eventlog.js and lib/connections.js): "listening", "connect",
// "disconnect", "shutdown", "exit", and each app's own events ("ns_connect",
// "ns_disconnect", "init", "subscribe", "error").
type NodeEvent struct {
	T       time.Time // when, to the microsecond
	Ev      string
	Backend string
	PID     int
	// Client is the client number from the upgrade's ?client=, or -1 when
	// the line has none.
	Client int
	// Code is the close code a "disconnect" saw (1005: none, 1006: no close
	// frame); Sent, when the server started the close, the code it sent.
	Code, Sent int
	Reason     string
	Initiator  string // "server" or "client", on a "disconnect"
	RemotePort int
	Namespace  string
	Fields     map[string]any // the whole line
}

// ReadNodeLog reads a Node backend's event log.
func ReadNodeLog(path string) ([]NodeEvent, error) {
	var out []NodeEvent
	err := eachJSONLine(path, func(m map[string]any) error {
		ms, ok := m["t"].(float64)
		if !ok {
			return fmt.Errorf("no time t")
		}
		sec, frac := math.Modf(ms / 1000)
		e := NodeEvent{
			T:          time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3),
			Ev:         str(m["ev"]),
			Backend:    str(m["backend"]),
			PID:        num(m["pid"]),
			Client:     clientNumber(m["client"]),
			Code:       num(m["code"]),
			Sent:       num(m["sent"]),
			Reason:     str(m["reason"]),
			Initiator:  str(m["initiator"]),
			RemotePort: num(m["remote_port"]),
			Namespace:  str(m["namespace"]),
			Fields:     m,
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// CentrifugoLine is one line of Centrifugo's JSON log. Its time has whole
// seconds only (zerolog's default RFC 3339 format; centrifugo v6.9.1 sets no
// other). At log level debug a client's life shows as, from centrifuge
// v0.38.1-0.20260711082514-84d40cc4dbf6 (the version v6.9.1 requires):
//   - "http request" with status 101 and addr, the upgrade (centrifugo
//     internal/middleware/log.go; addr is the X-Real-IP header, where the
//     stack's nginx puts the client number);
//   - "client connection established" (handler_websocket.go) and "client
//     authenticated" (client.go) with the client's id and user (the token's
//     sub);
//   - "client subscribed to channel" with the channel;
//   - "closing client connection" with the disconnect's reason, not its
//     code, when the server ends the session (client.go close; not when the
//     client does);
//   - "client connection completed" with the session's duration.
//
// Every line but "http request" and Centrifugo's own goes through a queue of
// 64 entries that drops what does not fit (centrifugo v6.9.1
// internal/logging/logging.go, centrifugeLogHandler.Handle): under a herd
// these lines can be missing, so count with the metrics.
type CentrifugoLine struct {
	Time     time.Time
	Level    string
	Message  string
	Client   string // the client's id (a UUID), when the line is about one
	User     string
	Channel  string
	Reason   string
	Addr     string // on "http request"
	Status   int    // on "http request"
	Path     string // on "http request"
	Duration string // on "http request" and "client connection completed"
	Fields   map[string]any
}

// ReadCentrifugoLog reads Centrifugo's log (up.sh's NAME.log).
func ReadCentrifugoLog(path string) ([]CentrifugoLine, error) {
	var out []CentrifugoLine
	err := eachJSONLine(path, func(m map[string]any) error {
		l := CentrifugoLine{
			Level: str(m["level"]), Message: str(m["message"]),
			Client: str(m["client"]), User: str(m["user"]), Channel: str(m["channel"]), Reason: str(m["reason"]),
			Addr: str(m["addr"]), Status: num(m["status"]), Path: str(m["path"]), Duration: str(m["duration"]),
			Fields: m,
		}
		if ts := str(m["time"]); ts != "" {
			t, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				return err
			}
			l.Time = t
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// eachJSONLine calls f with each line of a file of JSON objects.
func eachJSONLine(path string, f func(map[string]any) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if err := f(m); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// clientNumber reads a client number given as text (the Node apps log the
// query's value) or a number; -1 when there is none.
func clientNumber(v any) int {
	switch c := v.(type) {
	case float64:
		return int(c)
	case string:
		if n, err := strconv.Atoi(c); err == nil {
			return n
		}
	}
	return -1
}

// NodeLog reads Node backend name's event log.
func (s *Stack) NodeLog(name string) ([]NodeEvent, error) { return ReadNodeLog(s.Path(name + ".log")) }

// CentrifugoLog reads Centrifugo backend name's log.
func (s *Stack) CentrifugoLog(name string) ([]CentrifugoLine, error) {
	return ReadCentrifugoLog(s.Path(name + ".log"))
}
