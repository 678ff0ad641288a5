// Package admin is the control side of a standalone server (wsstorm serve,
// wsstorm proxy): an HTTP API that reports the nodes' status, restarts a
// node, closes a share of the connections and offers the target's chaos
// capabilities one by one (take a node down and back, end connections,
// freeze a node); a client of that API (Remote) that is itself a target
// with those capabilities; and an event log of what the server did, one
// JSON object per line.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
)

// Target is a server the admin API can drive: a target with some of the
// chaos capabilities of internal/action, and a status per node.
//
// A Target that is one part of a larger one (one of several wsstorm serve
// processes on one address) numbers its nodes from a first node other than
// 0; it says so with a method FirstNode() int. The API then names the nodes
// FirstNode() to FirstNode()+Nodes()-1, in /status and in its paths, and
// passes the capabilities the node's place, 0 to Nodes()-1.
type Target interface {
	action.Target
	// NodeStatus returns every node's state and counters, in node order,
	// with each node's number as Index.
	NodeStatus() []nodes.Status
}

// firstNoder is a Target whose nodes are numbered from FirstNode().
type firstNoder interface{ FirstNode() int }

// Handler serves the admin API over a Target:
//
//	GET  /                     the list of endpoints
//	GET  /status               {"url": ..., "first_node": 0, "nodes": [nodes.Status...]}
//	POST /nodes/{i}/restart    code, drain, downtime, reason, wait
//	POST /close                fraction, code, reason, seed
//
// and the capabilities that actions compose (see primitives.go):
//
//	POST /nodes/{i}/refuse     code, reason, drop, for
//	POST /nodes/{i}/accept
//	POST /nodes/{i}/end        fraction, seed, code, reason, drop, spread
//	POST /end                  the same, over every node
//	POST /nodes/{i}/freeze
//	POST /nodes/{i}/thaw
//
// Parameters come in the query, as a form body, or as a JSON object body
// (Content-Type: application/json). Answers are JSON; errors are
// {"error": "..."} with a 4xx or 5xx status.
type Handler struct {
	t     Target
	first int // the number of the target's first node
	url   string
	log   *EventLog
	life  context.Context
	mux   *http.ServeMux

	mu     sync.Mutex
	busy   map[int]bool        // nodes restarting through this handler
	leases map[leaseKey]*lease // nodes refused or frozen through it, put back on their own (lease.go)
	// leaseGrace is how long after a leased node was due back it is put
	// back on its own.
	leaseGrace time.Duration
	wg         sync.WaitGroup
}

// Option configures a Handler.
type Option func(*Handler)

// WithURL sets the URL that /status reports clients connect to.
func WithURL(url string) Option { return func(h *Handler) { h.url = url } }

// WithEventLog logs the API's actions (restart_start, restart_end,
// close_fraction, node_down, node_up, end_start, end_done, freeze, thaw)
// to l.
func WithEventLog(l *EventLog) Option { return func(h *Handler) { h.log = l } }

// WithLifetime sets the server's lifetime: restarts run under ctx, not
// under the request that asked for them, so a client that hangs up does not
// cut a restart short; when ctx ends, restarts under way are interrupted
// and new ones refused. The default is a context that never ends.
func WithLifetime(ctx context.Context) Option { return func(h *Handler) { h.life = ctx } }

// WithLeaseGrace sets how long after a node refused or frozen with a for
// was due back the server puts it back on its own, if no accept or thaw
// came (default DefaultLeaseGrace).
func WithLeaseGrace(d time.Duration) Option { return func(h *Handler) { h.leaseGrace = d } }

// NewHandler returns the admin API over t.
func NewHandler(t Target, opts ...Option) *Handler {
	h := &Handler{t: t, life: context.Background(), busy: map[int]bool{}, leases: map[leaseKey]*lease{}, leaseGrace: DefaultLeaseGrace}
	if f, ok := t.(firstNoder); ok {
		h.first = f.FirstNode()
	}
	for _, o := range opts {
		o(h)
	}
	context.AfterFunc(h.life, h.stopLeases)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /status", h.status)
	mux.HandleFunc("/{$}", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/status", methodNotAllowed("GET, HEAD"))
	for path, f := range map[string]http.HandlerFunc{
		"/nodes/{i}/restart": h.restart,
		"/close":             h.close,
		"/nodes/{i}/refuse":  h.refuse,
		"/nodes/{i}/accept":  h.accept,
		"/nodes/{i}/end":     h.end,
		"/end":               h.end,
		"/nodes/{i}/freeze":  h.freeze,
		"/nodes/{i}/thaw":    h.thaw,
	} {
		mux.HandleFunc("POST "+path, f)
		// The same path with another method answers in JSON too.
		mux.HandleFunc(path, methodNotAllowed("POST"))
	}
	mux.HandleFunc("/", notFound)
	h.mux = mux
	return h
}

// ServeHTTP serves the admin API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Wait waits for the restarts the handler started to end. Call it once the
// lifetime context has ended; restarts then end promptly.
func (h *Handler) Wait() {
	// A restart that started before the lifetime ended has been counted
	// by the time the lock is free (see claim).
	h.mu.Lock()
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *Handler) index(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": []string{
		"GET /status",
		"POST /nodes/{i}/restart?code=1012&drain=0s&downtime=2s&reason=&wait=true",
		"POST /close?fraction=0.1&code=1000&reason=&seed=",
		"POST /nodes/{i}/refuse?code=1012&reason=&drop=false&for=",
		"POST /nodes/{i}/accept",
		"POST /nodes/{i}/end?fraction=&seed=&code=1000&reason=&drop=false&spread=0s",
		"POST /end?fraction=&seed=&code=1000&reason=&drop=false&spread=0s",
		"POST /nodes/{i}/freeze",
		"POST /nodes/{i}/thaw",
	}})
}

// statusResponse is the answer to GET /status.
type statusResponse struct {
	URL       string         `json:"url,omitempty"`
	FirstNode int            `json:"first_node"` // the number of nodes[0]
	Nodes     []nodes.Status `json:"nodes"`
}

func (h *Handler) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusResponse{URL: h.url, FirstNode: h.first, Nodes: h.t.NodeStatus()})
}

// restartResponse is the answer to a restart.
type restartResponse struct {
	Node      int     `json:"node"`
	Closed    int     `json:"closed"`
	DurationS float64 `json:"duration_s"`
	Error     string  `json:"error,omitempty"`
	Status    string  `json:"status,omitempty"` // "restarting" when not waited for
}

func (h *Handler) restart(w http.ResponseWriter, r *http.Request) {
	node, err := h.node(r.PathValue("i"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	q, err := readParams(r, restartParams)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	spec, wait, err := parseRestart(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := h.claim(node); err != nil {
		code := http.StatusConflict
		if errors.Is(err, errStopping) {
			code = http.StatusServiceUnavailable
		}
		writeError(w, code, err)
		return
	}
	start := time.Now()
	spec.Node = node - h.first
	h.log.RestartStarted(node, spec)
	type result struct {
		closed int
		took   time.Duration
		err    error
	}
	done := make(chan result, 1)
	go func() {
		defer h.wg.Done() // added by claim
		closed, err := action.RestartNode(h.life, h.t, spec.Node, spec)
		took := time.Since(start)
		h.log.RestartEnded(node, closed, took, err)
		h.release(node)
		done <- result{closed, took, err}
	}()
	if !wait {
		writeJSON(w, http.StatusAccepted, restartResponse{Node: node, Status: "restarting"})
		return
	}
	select {
	case res := <-done:
		resp := restartResponse{Node: node, Closed: res.closed, DurationS: res.took.Seconds()}
		code := http.StatusOK
		switch {
		case res.err == nil:
		case h.life.Err() != nil || errors.Is(res.err, net.ErrClosed):
			code = http.StatusServiceUnavailable
			resp.Error = fmt.Sprintf("restart of node %d interrupted: the server is shutting down", node)
		default:
			code = http.StatusInternalServerError
			resp.Error = res.err.Error()
		}
		writeJSON(w, code, resp)
	case <-r.Context().Done():
		// The client left; the restart goes on and is logged.
	}
}

// closeResponse is the answer to a close.
type closeResponse struct {
	Closed int    `json:"closed"`
	Seed   uint64 `json:"seed"`
}

func (h *Handler) close(w http.ResponseWriter, r *http.Request) {
	q, err := readParams(r, closeParams)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	spec, seed, err := parseClose(q, newSeed)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if h.life.Err() != nil {
		writeError(w, http.StatusServiceUnavailable, errStopping)
		return
	}
	h.log.CloseStarted(spec, seed)
	closed, err := action.CloseShare(h.life, h.t, spec, seed)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	writeJSON(w, http.StatusOK, closeResponse{Closed: closed, Seed: seed})
}

// newSeed picks a close's seed when none is given: below 2^53, so that
// JSON readers that hold numbers as doubles report it exactly.
func newSeed() uint64 { return rand.Uint64() >> 11 }

// node parses a node's number from the path and checks that this server
// has it.
func (h *Handler) node(s string) (int, error) {
	n := h.t.Nodes()
	i, err := strconv.Atoi(s)
	if err != nil || i < h.first || i-h.first >= n {
		return 0, fmt.Errorf("no node %q: this server has nodes %d to %d", s, h.first, h.first+n-1)
	}
	return i, nil
}

// errStopping refuses actions once the lifetime has ended.
var errStopping = errors.New("the server is shutting down")

// claim marks node as restarting and counts the restart in h.wg. It fails
// if the node already is restarting or the lifetime has ended.
func (h *Handler) claim(node int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.life.Err() != nil {
		return errStopping
	}
	if h.busy[node] {
		return fmt.Errorf("node %d is already restarting: wait until GET /status shows it up, then try again", node)
	}
	h.busy[node] = true
	h.wg.Add(1)
	return nil
}

func (h *Handler) release(node int) {
	h.mu.Lock()
	delete(h.busy, node)
	h.mu.Unlock()
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: use %s", r.Method, r.URL.Path, allow))
	}
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, fmt.Errorf("no endpoint %s: use GET /status, POST /nodes/{i}/restart or POST /close (GET / lists them all)", r.URL.Path))
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}
