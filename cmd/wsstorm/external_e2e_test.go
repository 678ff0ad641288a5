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
	"strings"
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

// TestShippedExternalServe runs the walkthrough of docs/real-targets.md
// ("Try it locally first") as written, on free ports: the `wsstorm serve`
// line it shows, and profiles/external-serve.toml against it, with the
// addresses the walkthrough gives swapped for the server's and the timeline
// shortened with --set. The hooks restart each node through the admin API,
// the run passes, and the server's log counts the clients' 1012 closes.
func TestShippedExternalServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a storm")
	}
	const listen, adminAddr = "127.0.0.1:9800", "127.0.0.1:9900" // the walkthrough's
	doc, err := os.ReadFile("../../docs/real-targets.md")
	if err != nil {
		t.Fatal(err)
	}
	var serveArgs []string
	for line := range strings.Lines(string(doc)) {
		if strings.HasPrefix(line, "wsstorm serve ") && strings.Contains(line, listen) {
			serveArgs = strings.Fields(line)[2:]
		}
	}
	if !strings.Contains(string(doc), "\nwsstorm run profiles/external-serve.toml\n") || !slices.Contains(serveArgs, adminAddr) {
		t.Fatalf("docs/real-targets.md lacks the walkthrough's commands (serve --listen %s --admin %s, run profiles/external-serve.toml)", listen, adminAddr)
	}
	serveLog := filepath.Join(t.TempDir(), "serve.log")
	for i, a := range serveArgs {
		switch a {
		case listen, adminAddr:
			serveArgs[i] = "127.0.0.1:0"
		case "serve.log":
			serveArgs[i] = serveLog
		}
	}
	srv := startServe(t, serveArgs...)

	body, err := os.ReadFile("../../profiles/external-serve.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	for _, addr := range []string{"ws://" + listen + "/", "http://" + adminAddr + "/"} {
		if !strings.Contains(text, addr) {
			t.Fatalf("profiles/external-serve.toml does not use the walkthrough's %s", addr)
		}
	}
	text = strings.ReplaceAll(text, "ws://"+listen+"/", srv.url)
	text = strings.ReplaceAll(text, "http://"+adminAddr+"/", srv.admin)
	prof := filepath.Join(t.TempDir(), "external-serve.toml")
	if err := os.WriteFile(prof, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := wsstorm(t, "run", prof, "--quiet", "--out", out,
		"--set", "duration=10s", "--set", "fleet.clients=150", "--set", "fleet.ramp=1s",
		"--set", "fleet.reconnect.min=100ms", "--set", "fleet.reconnect.max=600ms",
		"--set", "chaos.0.at=2s", "--set", "chaos.0.interval=2500ms",
		"--set", "chaos.0.drain=200ms", "--set", "chaos.0.downtime=300ms")
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
	if s.Profile.Name != "external-serve" || len(s.Events) != 3 {
		t.Fatalf("profile %q with %d events, want external-serve with 3\n%s", s.Profile.Name, len(s.Events), stdout)
	}
	for i, e := range s.Events {
		if e.Hook == nil || e.Hook.Kind != "http" || e.Hook.HTTPStatus != 200 || e.Failed || e.Affected == 0 || e.Node == nil || *e.Node != i {
			t.Errorf("event %d: node %v, affected %d, failed %v, hook %+v", e.Index, e.Node, e.Affected, e.Failed, e.Hook)
		}
	}
	if v := readServerLog(t, serveLog); s.Counters.Closes[1012] != int64(v.closes1012) || v.closes1012 == 0 {
		t.Errorf("1012 closes: server %d, clients %d", v.closes1012, s.Counters.Closes[1012])
	}
}
