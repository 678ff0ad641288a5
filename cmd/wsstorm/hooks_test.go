package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/results"
	"github.com/wsstorm/wsstorm/internal/target"
)

// startTarget starts an embedded target in this process, for runs of an
// external profile in a child process.
func startTarget(t *testing.T, nodes int) *target.Target {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tgt, err := target.Start(ctx, target.Options{Nodes: nodes, Listen: "127.0.0.1:0", Capacity: profile.Defaults().Target.Capacity})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = tgt.Shutdown(sctx)
		scancel()
		cancel()
	})
	return tgt
}

// TestHookFailures runs a restart hook that fails in each way a hook fails
// (a non-zero exit, a timeout, an HTTP 500), with on_hook_failure
// "continue" and "abort": the event is marked failed with what the hook
// did, the run fails (exit 1) with its results written, and "abort" ends
// it at once while "continue" runs to the end and into the next event.
func TestHookFailures(t *testing.T) {
	tgt := startTarget(t, 1)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "restart refused: node busy", http.StatusInternalServerError)
	}))
	t.Cleanup(web.Close)
	hooks := map[string]string{
		"exit":    `command = ["sh", "-c", "echo deploying node {{node}}; exit 7"]`,
		"timeout": `command = ["sleep", "30"]` + "\ntimeout = \"300ms\"",
		"http500": `http = { url = "` + web.URL + `/restart?node={{node}}" }`,
	}
	wants := map[string]string{
		"exit":    "sh exited with status 7",
		"timeout": "did not finish within its timeout of 300ms",
		"http500": "POST answered 500 Internal Server Error",
	}
	for kind, hook := range hooks {
		for _, onFailure := range []string{"continue", "abort"} {
			t.Run(kind+"/"+onFailure, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				prof := filepath.Join(dir, "hooks.toml")
				body := fmt.Sprintf(`name = "hooks"
duration = "5s"
[target]
mode = "external"
url = "%s"
on_hook_failure = "%s"
[[target.nodes]]
name = "web-1"
%s
[fleet]
clients = 10
ramp = "200ms"
[[chaos]]
at = "1s"
action = "restart"
downtime = "0s"
[[chaos]]
at = "3s"
action = "restart"
downtime = "0s"
`, tgt.URL(), onFailure, hook)
				if err := os.WriteFile(prof, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, "out")
				start := time.Now()
				code, stdout, stderr := wsstorm(t, "run", prof, "--quiet", "--out", out)
				took := time.Since(start)
				if code != exitFailed {
					t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, stdout, stderr)
				}
				s, err := results.ReadSummary(out)
				if err != nil {
					t.Fatalf("results not written: %v", err)
				}
				if s.Passed || len(s.Events) == 0 || !s.Events[0].Failed || s.Events[0].Hook == nil {
					t.Fatalf("summary: passed %v, events %+v", s.Passed, s.Events)
				}
				h := s.Events[0].Hook
				if !strings.Contains(h.Error, wants[kind]) || h.Name != "web-1" {
					t.Errorf("hook %+v, want error %q", h, wants[kind])
				}
				switch kind {
				case "exit":
					if h.ExitStatus == nil || *h.ExitStatus != 7 || h.Output != "deploying node 0\n" || h.Kind != "command" {
						t.Errorf("hook %+v", h)
					}
				case "http500":
					if h.HTTPStatus != 500 || !strings.Contains(h.Output, "node busy") || h.Kind != "http" {
						t.Errorf("hook %+v", h)
					}
				}
				if !strings.Contains(stderr, "hook of node 0 (web-1) for event 0: FAILED: "+wants[kind]) {
					t.Errorf("stderr lacks the hook's failure:\n%s", stderr)
				}
				switch onFailure {
				case "abort":
					if !strings.Contains(s.Aborted, "the hook of node 0 (web-1) failed") || len(s.Events) != 1 || s.DurationS >= 4 {
						t.Errorf("aborted %q after %.1fs with %d events", s.Aborted, s.DurationS, len(s.Events))
					}
					if !strings.Contains(stdout, "ABORTED: the hook of node 0") {
						t.Errorf("stdout lacks the verdict:\n%s", stdout)
					}
					if took > 30*time.Second {
						t.Errorf("an aborted run took %v", took)
					}
				case "continue":
					if s.Aborted != "" || len(s.Events) != 2 || !s.Events[1].Failed || s.DurationS < 5 {
						t.Errorf("aborted %q, %d events, %.1fs", s.Aborted, len(s.Events), s.DurationS)
					}
					if !strings.Contains(stdout, "2 chaos events failed") {
						t.Errorf("stdout lacks the verdict:\n%s", stdout)
					}
				}
			})
		}
	}
}
