package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/wsstorm/wsstorm/internal/results"
)

// serverView is what the server's log says of a run: the closes with code
// 1012 it sent, and each client's reconnections after them, with the time
// from the close it sent to the next connection of that client it
// accepted, on the server's own clock.
type serverView struct {
	closes1012    int
	reconnections int
	latencies     []float64 // ms
}

func readServerLog(t *testing.T, path string) serverView {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type entry struct {
		T     float64 `json:"t"`
		Event string  `json:"event"`
		Conn  uint64  `json:"conn"`
		Code  int     `json:"code"`
		By    string  `json:"by"`
		URI   string  `json:"uri"`
	}
	clientOf := map[uint64]string{}  // connection → client id from its URI
	closedAt := map[string]float64{} // client → when the server closed it with 1012, awaiting its return
	var v serverView
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		switch e.Event {
		case "accept":
			u, err := url.Parse(e.URI)
			if err != nil {
				t.Fatalf("accept of %q: %v", e.URI, err)
			}
			client := u.Query().Get("client")
			clientOf[e.Conn] = client
			if at, ok := closedAt[client]; ok {
				v.reconnections++
				v.latencies = append(v.latencies, (e.T-at)*1000)
				delete(closedAt, client)
			}
		case "close":
			if e.Code == 1012 {
				v.closes1012++
				closedAt[clientOf[e.Conn]] = e.T
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// percentile is the nearest-rank percentile p (0-100) of values.
func percentile(values []float64, p float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	k := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(k, 1)-1]
}

// TestExternalRunAgainstServe is the acceptance test of restart hooks:
// `wsstorm run` storms `wsstorm serve`, running as a separate process, in
// external mode, and restarts its nodes through the hooks — the admin API's
// HTTP endpoint in one case, a command (curl) in the other. The server's
// own log and wsstorm's results must agree exactly on the number of 1012
// closes and of reconnections, and on reconnect latency p50 and p99 within
// 5 ms or 5%, whichever is larger.
func TestExternalRunAgainstServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two storms")
	}
	curl, curlErr := exec.LookPath("curl")
	for _, kind := range []string{"http", "command"} {
		t.Run(kind, func(t *testing.T) {
			if kind == "command" && curlErr != nil {
				if os.Getenv("WSSTORM_REQUIRE_CURL") == "1" {
					t.Fatal("the command hook uses curl, which is not installed (.ci/run installs it)")
				}
				t.Skip("the command hook uses curl, which is not installed")
			}
			serveLog := filepath.Join(t.TempDir(), "serve.log")
			srv := startServe(t, "--nodes", "2", "--log", serveLog)
			restart := srv.admin + "nodes/{{node}}/restart?code={{code}}&drain={{drain}}&downtime={{downtime}}"
			hook := fmt.Sprintf(`http = { url = "%s", status = 200 }`, restart)
			if kind == "command" {
				hook = fmt.Sprintf(`command = ["%s", "-fsS", "-X", "POST", "%s"]`, curl, restart)
			}
			prof := filepath.Join(t.TempDir(), "serve.toml")
			body := fmt.Sprintf(`name = "against-serve"
duration = "10s"
seed = 3
[target]
mode = "external"
url = "%s?client={{client}}"
[[target.nodes]]
name = "serve-0"
%s
window = "2s"
[[target.nodes]]
name = "serve-1"
%s
window = "2s"
[fleet]
clients = 300
ramp = "1s"
[fleet.reconnect]
strategy = "window"
min = "100ms"
max = "400ms"
[[chaos]]
at = "2s"
action = "rolling_restart"
interval = "3s"
drain = "200ms"
downtime = "500ms"
code = 1012
`, srv.url, hook, hook)
			if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := wsstorm(t, "run", prof, "--quiet", "--out", out)
			if c := srv.stop(t, syscall.SIGTERM); c != 0 {
				t.Fatalf("wsstorm serve: exit %d\n%s", c, srv.output())
			}
			if code != exitPassed {
				t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
			}
			s, err := results.ReadSummary(out)
			if err != nil {
				t.Fatal(err)
			}
			v := readServerLog(t, serveLog)

			var affected int64
			for _, e := range s.Events {
				affected += e.Affected
				if e.Hook == nil || e.Hook.Error != "" || e.Failed {
					t.Errorf("event %d: hook %+v", e.Index, e.Hook)
				}
			}
			if len(s.Events) != 2 || v.closes1012 == 0 {
				t.Fatalf("%d events, the server closed %d with 1012\n%s", len(s.Events), v.closes1012, stderr)
			}
			if got := s.Counters.Closes[1012]; got != int64(v.closes1012) || affected != got {
				t.Errorf("1012 closes: server %d, clients %d, events' affected %d", v.closes1012, got, affected)
			}
			if s.Counters.Reconnects != int64(v.reconnections) {
				t.Errorf("reconnections: server %d, clients %d", v.reconnections, s.Counters.Reconnects)
			}
			for _, p := range []struct {
				name   string
				pct    float64
				client *float64
			}{{"p50", 50, s.LatencyMS.Reconnect.P50}, {"p99", 99, s.LatencyMS.Reconnect.P99}} {
				server := percentile(v.latencies, p.pct)
				if p.client == nil {
					t.Fatalf("reconnect %s missing in the results", p.name)
				}
				tol := max(5, 0.05*server)
				if math.Abs(*p.client-server) > tol {
					t.Errorf("reconnect %s: clients %.3f ms, server %.3f ms (tolerance %.1f ms)", p.name, *p.client, server, tol)
				}
				t.Logf("reconnect %s: clients %.3f ms, server %.3f ms", p.name, *p.client, server)
			}
			t.Logf("%d closes with 1012, %d reconnections, on both sides", v.closes1012, v.reconnections)
		})
	}
}
