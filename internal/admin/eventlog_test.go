package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// TestEventLogLines: each event is one JSON object per line, in the
// documented shape, with t in seconds and nine decimals.
func TestEventLogLines(t *testing.T) {
	var out bytes.Buffer
	l := NewEventLog(&out)
	l.Serving("ws://127.0.0.1:8080/", 3)
	l.Accepted(1, 17, httptest.NewRequest("GET", "/socket?client=3&x=%22q%22", nil))
	l.Closed(1, 17, 1012, "restart")
	l.Disconnected(2, 18, 1006)
	l.Rejected(0, 503)
	l.RestartStarted(1, action.RestartParams{Code: 1012, Reason: "deploy \"v2\"", Drain: 1500 * time.Millisecond, Downtime: 2 * time.Second})
	l.RestartEnded(1, 4, 3500*time.Millisecond, nil)
	l.RestartEnded(2, 0, time.Millisecond, errors.New("listen again: address in use"))
	l.CloseStarted(action.CloseParams{Fraction: 0.1, Code: 1000}, 42)
	l.ShuttingDown()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	want := []string{
		`"event":"start","time":"*","url":"ws://127.0.0.1:8080/","nodes":3}`,
		`"event":"accept","node":1,"conn":17,"uri":"/socket?client=3&x=[redacted]"}`,
		`"event":"close","node":1,"conn":17,"code":1012,"by":"restart"}`,
		`"event":"disconnect","node":2,"conn":18,"code":1006}`,
		`"event":"reject","node":0,"status":503}`,
		`"event":"restart_start","node":1,"code":1012,"reason":"deploy \"v2\"","drain_s":1.500000000,"downtime_s":2.000000000}`,
		`"event":"restart_end","node":1,"closed":4,"duration_s":3.500000000}`,
		`"event":"restart_end","node":2,"closed":0,"duration_s":0.001000000,"error":"listen again: address in use"}`,
		`"event":"close_fraction","fraction":0.1,"code":1000,"reason":"","seed":42}`,
		`"event":"shutdown"}`,
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	tRE := regexp.MustCompile(`^\{"t":(\d+\.\d{9}),`)
	timeRE := regexp.MustCompile(`"time":"[^"]+"`)
	last := -1.0
	for i, line := range lines {
		m := tRE.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %d %s does not start with t in seconds with nine decimals", i, line)
			continue
		}
		rest := timeRE.ReplaceAllString(line[len(m[0]):], `"time":"*"`)
		if rest != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, rest, want[i])
		}
		var v struct {
			T float64 `json:"t"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("line %d is not JSON: %v", i, err)
		}
		if v.T < last {
			t.Errorf("line %d: t %v went back from %v", i, v.T, last)
		}
		last = v.T
	}
}

// TestEventLogRedactsQuery: an "accept" line keeps the path, the query's
// keys and the values of the keys it is told to keep (client and session
// by default); every other value is "[redacted]".
func TestEventLogRedactsQuery(t *testing.T) {
	const secret = "s3cret-T0KEN"
	cases := []struct {
		name string
		opts []LogOption
		uri  string
		want string
	}{
		{"default keeps client and session", nil,
			"/socket?client=17&token=" + secret + "&session=4",
			"/socket?client=17&token=[redacted]&session=4"},
		{"escaped key and value", nil,
			"/?%74oken=" + secret + "%21&client=a%20b",
			"/?%74oken=[redacted]&client=a%20b"},
		{"repeated key", nil,
			"/?token=" + secret + "&token=" + secret + "2",
			"/?token=[redacted]&token=[redacted]"},
		{"empty value and bare key", nil,
			"/?token=&debug&client=1",
			"/?token=[redacted]&debug&client=1"},
		{"no query", nil, "/socket", "/socket"},
		{"empty query", nil, "/socket?", "/socket?"},
		{"chosen keys", []LogOption{LogQueryKeys("user", "token")},
			"/?client=17&user=ann&token=" + secret,
			"/?client=[redacted]&user=ann&token=" + secret},
		{"no keys kept", []LogOption{LogQueryKeys()},
			"/?client=17&session=4",
			"/?client=[redacted]&session=[redacted]"},
		{"absolute form", nil,
			"http://user:" + secret + "@example.test/socket?client=1&key=" + secret,
			"/socket?client=1&key=[redacted]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			l := NewEventLog(&out, c.opts...)
			r := httptest.NewRequest("GET", c.uri, nil)
			l.Accepted(0, 1, r)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			var e struct {
				URI string `json:"uri"`
			}
			if err := json.Unmarshal(out.Bytes(), &e); err != nil {
				t.Fatalf("%s: %v", out.String(), err)
			}
			if e.URI != c.want {
				t.Errorf("uri %q, want %q", e.URI, c.want)
			}
			if c.name != "chosen keys" && strings.Contains(out.String(), secret) {
				t.Errorf("the log shows the secret: %s", out.String())
			}
		})
	}
}

// TestEventLogAfterClose: Close writes what was logged; later events are
// dropped, and a nil log logs nothing.
func TestEventLogAfterClose(t *testing.T) {
	var out bytes.Buffer
	l := NewEventLog(&out)
	l.Rejected(0, 503)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Rejected(1, 503)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("%d lines, want the one logged before Close:\n%s", n, out.String())
	}
	var none *EventLog
	none.Rejected(0, 503)
	none.ShuttingDown()
	if err := none.Close(); err != nil {
		t.Error(err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestEventLogWriteError: Close reports a writer that failed.
func TestEventLogWriteError(t *testing.T) {
	l := NewEventLog(failingWriter{})
	l.Rejected(0, 503)
	if err := l.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close = %v, want disk full", err)
	}
}

// gatedWriter blocks every Write until open is closed.
type gatedWriter struct {
	open chan struct{}
	mu   sync.Mutex
	b    bytes.Buffer
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.Write(p)
}

// TestEventLogBoundsItsBuffer: with the writer stuck, events wait once
// maxPending bytes are buffered, rather than grow the buffer or be lost.
func TestEventLogBoundsItsBuffer(t *testing.T) {
	w := &gatedWriter{open: make(chan struct{})}
	l := NewEventLog(w)
	const events = 200_000 // about 9 MB of lines: more than two buffers
	var logged atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range events {
			l.Rejected(0, 503)
			logged.Add(1)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		full := len(l.buf) >= maxPending
		l.mu.Unlock()
		if full {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the buffer never filled")
		}
		time.Sleep(time.Millisecond)
	}
	if n := logged.Load(); n == events {
		t.Fatal("every event was taken while the writer was stuck")
	}
	close(w.open)
	<-done
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(w.b.Bytes(), []byte("\n")); n != events {
		t.Errorf("%d lines written, want %d", n, events)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "tab\tnl\n\x00\x1f", "héllo ✓ 😀", "bad \xff utf8", "</script>&"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", s, got, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Errorf("%q: round trip gave %q", s, back)
		}
	}
}

// BenchmarkEventLogAccepted is the cost a node pays per accepted connection
// with the log on.
func BenchmarkEventLogAccepted(b *testing.B) {
	l := NewEventLog(io.Discard)
	defer l.Close()
	r := httptest.NewRequest("GET", "/socket?client=12345", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Accepted(1, 12345, r)
		}
	})
}
