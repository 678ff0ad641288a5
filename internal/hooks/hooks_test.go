package hooks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
)

var vars = Vars{"node": "2", "name": "web-3", "code": "1012", "drain": "500ms", "downtime": "2s", "reason": "deploy v2"}

func command(timeout time.Duration, args ...string) profile.NodeHook {
	return profile.NodeHook{Name: "web-3", Command: args, Timeout: profile.Dur(timeout)}
}

func TestCommand(t *testing.T) {
	r := Execute(context.Background(), command(10*time.Second, "echo", "restart", "{{name}}", "node={{node}}", "code={{ code }}", "{{drain}}/{{downtime}}", "{{reason}}"), vars)
	if r.Err != nil || r.ExitStatus == nil || *r.ExitStatus != 0 || r.Kind != "command" {
		t.Fatalf("run = %+v", r)
	}
	if want := "restart web-3 node=2 code=1012 500ms/2s deploy v2\n"; r.Output != want {
		t.Errorf("output %q, want %q", r.Output, want)
	}
	if r.Command[2] != "web-3" || r.Duration <= 0 {
		t.Errorf("command %q, duration %v", r.Command, r.Duration)
	}
}

func TestCommandFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		hook   profile.NodeHook
		err    string
		status int // -1: none
	}{
		{"non-zero exit", command(10*time.Second, "sh", "-c", "echo boom >&2; exit 3"), "sh exited with status 3", 3},
		{"not found", command(10*time.Second, "wsstorm-no-such-program"), "wsstorm-no-such-program", -1},
		{"timeout", command(300*time.Millisecond, "sleep", "30"), "did not finish within its timeout of 300ms", -1},
		// The group is killed: a child holding the output open does not
		// keep the run waiting.
		{"timeout with a child", command(300*time.Millisecond, "sh", "-c", "sleep 30 & sleep 30"), "did not finish within its timeout of 300ms", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := Execute(context.Background(), tc.hook, vars)
			if r.Err == nil || !strings.Contains(r.Err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", r.Err, tc.err)
			}
			if tc.status >= 0 && (r.ExitStatus == nil || *r.ExitStatus != tc.status) {
				t.Errorf("exit status %v, want %d", r.ExitStatus, tc.status)
			}
			if tc.status < 0 && r.ExitStatus != nil {
				t.Errorf("exit status %d for a command that did not exit", *r.ExitStatus)
			}
			if tc.name == "non-zero exit" && r.Output != "boom\n" {
				t.Errorf("output %q", r.Output)
			}
			// Bounded by the timeout plus WaitDelay, with room for a busy machine.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestOutputLimited(t *testing.T) {
	r := Execute(context.Background(), command(10*time.Second, "sh", "-c", "head -c 10000 /dev/zero | tr '\\0' x"), vars)
	if r.Err != nil || !strings.HasPrefix(r.Output, strings.Repeat("x", MaxOutput)) || !strings.HasSuffix(r.Output, "[5904 more bytes]") {
		t.Fatalf("err %v, output %d bytes ending %q", r.Err, len(r.Output), r.Output[max(0, len(r.Output)-20):])
	}
}

func TestHTTP(t *testing.T) {
	var got atomic.Pointer[http.Request]
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body.Store(string(b))
		got.Store(r)
		switch r.URL.Query().Get("answer") {
		case "500":
			http.Error(w, "restart failed: node busy", http.StatusInternalServerError)
		case "slow":
			time.Sleep(2 * time.Second)
		case "201":
			w.WriteHeader(http.StatusCreated)
		default:
			io.WriteString(w, `{"closed": 42}`)
		}
	}))
	defer srv.Close()
	hook := func(answer string, status int, timeout time.Duration) profile.NodeHook {
		return profile.NodeHook{Name: "web-3", Timeout: profile.Dur(timeout), HTTP: profile.HookHTTP{
			Method:  "POST",
			URL:     srv.URL + "/nodes/{{node}}/restart?code={{code}}&reason={{reason}}&answer=" + answer,
			Headers: map[string]string{"Authorization": "Bearer t0k", "X-Node": "{{name}}"},
			Body:    `{"downtime": "{{downtime}}"}`,
			Status:  status,
		}}
	}

	r := Execute(context.Background(), hook("ok", 0, 5*time.Second), vars)
	req := got.Load()
	if r.Err != nil || r.HTTPStatus != 200 || r.Output != `{"closed": 42}` || r.Kind != "http" {
		t.Fatalf("run = %+v", r)
	}
	if req.URL.Path != "/nodes/2/restart" || req.URL.Query().Get("reason") != "deploy v2" || req.URL.Query().Get("code") != "1012" {
		t.Errorf("request %s", req.URL)
	}
	if req.Header.Get("Authorization") != "Bearer t0k" || req.Header.Get("X-Node") != "web-3" || body.Load() != `{"downtime": "2s"}` {
		t.Errorf("headers %v, body %v", req.Header, body.Load())
	}

	for _, tc := range []struct {
		name, answer string
		status       int
		timeout      time.Duration
		err          string
	}{
		{"500", "500", 0, 5 * time.Second, "POST answered 500 Internal Server Error, not a 2xx status"},
		{"other status than asked", "201", 200, 5 * time.Second, "POST answered 201 Created, not status 200"},
		{"timeout", "slow", 0, 200 * time.Millisecond, "did not finish within its timeout of 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Execute(context.Background(), hook(tc.answer, tc.status, tc.timeout), vars)
			if r.Err == nil || !strings.Contains(r.Err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", r.Err, tc.err)
			}
			if tc.answer == "500" && !strings.Contains(r.Output, "node busy") {
				t.Errorf("output %q", r.Output)
			}
		})
	}
	if r := Execute(context.Background(), hook("201", 201, 5*time.Second), vars); r.Err != nil {
		t.Errorf("the status asked for: %v", r.Err)
	}
}

func TestTarget(t *testing.T) {
	tgt := NewTarget([]profile.NodeHook{command(10*time.Second, "true"), command(10*time.Second, "false")})
	var failed []Run
	tgt.OnRun = func(r Run) {
		if r.Err != nil {
			failed = append(failed, r)
		}
	}
	if tgt.Nodes() != 2 {
		t.Fatalf("nodes %d", tgt.Nodes())
	}
	if n, err := restart(context.Background(), tgt, 0, 4); n != -1 || err != nil {
		t.Errorf("node 0: %d, %v", n, err)
	}
	if _, err := restart(context.Background(), tgt, 1, 5); err == nil || !strings.Contains(err.Error(), "hook of node 1") {
		t.Errorf("node 1: %v", err)
	}
	closeEvent := action.Event{Action: "close", Node: -1, Params: &action.CloseParams{Fraction: 1}}
	if _, err := action.Carry(context.Background(), tgt, closeEvent); err == nil {
		t.Error("Close on an external target succeeded")
	}
	runs := tgt.Runs()
	if len(runs) != 2 || runs[0].Event != 4 || runs[1].Event != 5 || runs[1].Err == nil || len(failed) != 1 || failed[0].Node != 1 {
		t.Errorf("runs %+v, failed %+v", runs, failed)
	}
}

// TestCutShort: a hook still running when the run ends is cut short, which
// is not its failure.
func TestCutShort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	tgt := NewTarget([]profile.NodeHook{command(time.Minute, "sleep", "30")})
	n, err := restart(ctx, tgt, 0, 0)
	runs := tgt.Runs()
	if n != -1 || !errors.Is(err, context.Canceled) || len(runs) != 1 || !runs[0].Cancelled || runs[0].Err != nil {
		t.Fatalf("restart %d, %v; runs %+v", n, err, runs)
	}
}

// restart restarts node of tgt as chaos event index, as the controller does.
func restart(ctx context.Context, tgt *Target, node, index int) (int, error) {
	ev := action.Event{Index: index, Action: "restart", Node: node, Code: 1012, Params: &action.RestartParams{Node: node, Code: 1012}}
	eff, err := action.Carry(ctx, tgt, ev)
	return eff.Closed, err
}

// TestActionHooks: a node's hook for an action other than a restart runs
// with the node's number and name and the action's own variables; a node
// without that hook fails the event.
func TestActionHooks(t *testing.T) {
	node := command(10*time.Second, "true")
	node.Hooks = map[string]profile.Hook{"crash": {Command: []string{"echo", "{{name}}", "{{node}}", "{{downtime}}"}, Timeout: profile.Dur(10 * time.Second)}}
	tgt := NewTarget([]profile.NodeHook{node, command(10*time.Second, "true")})
	crash := func(n int) action.Event {
		return action.Event{Index: 7, Action: "crash", Node: n, Code: action.CloseAbnormal, Params: &action.CrashParams{Node: n, Downtime: 1500 * time.Millisecond}}
	}
	if _, err := action.Carry(context.Background(), tgt, crash(0)); err != nil {
		t.Fatal(err)
	}
	runs := tgt.Runs()
	if len(runs) != 1 || runs[0].Event != 7 || runs[0].Output != "web-3 0 1.5s\n" {
		t.Errorf("runs %+v, want the crash hook's output", runs)
	}
	if _, err := action.Carry(context.Background(), tgt, crash(1)); err == nil || !strings.Contains(err.Error(), "has no crash hook") {
		t.Errorf("a crash of a node without a crash hook: %v", err)
	}
}
