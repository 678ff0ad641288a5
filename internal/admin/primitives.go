package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// The target's chaos capabilities, one endpoint each, so that a client of
// the API (Remote) is a target the actions compose as they compose an
// embedded one: a new action needs no new endpoint.

var (
	refuseParams = []string{"code", "reason", "drop", "for"}
	endParams    = []string{"fraction", "seed", "code", "reason", "drop", "spread"}
	freezeParams = []string{"for"}
)

// errNotCapable answers a target that lacks a capability.
var errNotCapable = errors.New("this server's target cannot do that")

// refuse takes a node out of service: POST /nodes/{i}/refuse. With for,
// the node is on a lease (lease.go).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request) {
	node, q, ok := h.nodeRequest(w, r, refuseParams)
	if !ok {
		return
	}
	e, err := parseEnding(q, defaultRestartCode)
	var back time.Time
	if err == nil {
		back, err = forParam(q, maxRefusal)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	t, ok := capable[action.Refuser](w, h.t)
	if !ok {
		return
	}
	if err := t.Refuse(h.life, node-h.first, e, back); err != nil {
		writeError(w, h.failure(err), err)
		return
	}
	h.log.NodeDown(node, e)
	h.lease(leaseKey{node: node}, back)
	writeJSON(w, http.StatusOK, map[string]int{"node": node})
}

// forParam reads the for parameter, how long until the node is due back
// (at most most), as the time it is due; zero without one. A for of 0s is a
// lease too: the node is due back at once (a crash without downtime), and
// must not stay down for good if its driver is gone.
func forParam(q url.Values, most time.Duration) (time.Time, error) {
	if !q.Has("for") {
		return time.Time{}, nil
	}
	d, err := durationUpTo(q, "for", 0, most)
	if err != nil {
		return time.Time{}, err
	}
	return time.Now().Add(d), nil
}

// accept puts a node back in service: POST /nodes/{i}/accept.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request) {
	serveNode(h, w, r, "late", func(t action.Refuser, node int) (int, error) {
		h.endLease(leaseKey{node: node})
		late, err := t.Accept(h.life, node-h.first)
		h.log.NodeUp(node, late, "", err)
		return late, err
	})
}

// endResponse is the answer to an end.
type endResponse struct {
	Ended int     `json:"ended"`
	Seed  *uint64 `json:"seed,omitempty"` // the pick's seed, when it picked a share
}

// end ends connections: POST /nodes/{i}/end for a node's, POST /end for
// every node's. Without fraction it ends every one in the order they
// opened; with it, a share picked from seed.
func (h *Handler) end(w http.ResponseWriter, r *http.Request) {
	node := -1
	q, err := readParams(r, endParams)
	if err == nil && r.PathValue("i") != "" {
		if node, err = h.node(r.PathValue("i")); err != nil {
			writeError(w, http.StatusNotFound, err)
			return
		}
	}
	var (
		p      action.Pick
		e      action.Ending
		spread time.Duration
	)
	if err == nil {
		which := -1 // every node's
		if node >= 0 {
			which = node - h.first
		}
		p, err = parsePick(q, which, newSeed)
	}
	if err == nil {
		e, err = parseEnding(q, defaultCloseCode)
	}
	if err == nil {
		spread, err = duration(q, "spread", 0)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	t, ok := capable[action.Ender](w, h.t)
	if !ok {
		return
	}
	// Under the request: a driver that gives up on an End (its run was
	// cut short) stops it, as an End in its own process would stop.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.life, cancel)()
	start := time.Now()
	h.log.EndStarted(node, p, e, spread)
	ended, err := t.End(ctx, p, e, spread)
	h.log.EndDone(node, ended, time.Since(start), err)
	if err != nil {
		writeError(w, h.failure(err), err)
		return
	}
	resp := endResponse{Ended: ended}
	if p.Fraction > 0 {
		resp.Seed = &p.Seed
	}
	writeJSON(w, http.StatusOK, resp)
}

// freeze stops a node's traffic: POST /nodes/{i}/freeze. With for, the
// node is on a lease (lease.go).
func (h *Handler) freeze(w http.ResponseWriter, r *http.Request) {
	node, q, ok := h.nodeRequest(w, r, freezeParams)
	if !ok {
		return
	}
	back, err := forParam(q, maxLease)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	t, ok := capable[action.Freezer](w, h.t)
	if !ok {
		return
	}
	frozen, err := t.Freeze(h.life, node-h.first, back)
	h.log.Frozen(node, frozen, err)
	if err != nil {
		writeError(w, h.failure(err), err)
		return
	}
	h.lease(leaseKey{node: node, freeze: true}, back)
	writeJSON(w, http.StatusOK, map[string]int{"node": node, "frozen": frozen})
}

// thaw resumes a node's traffic: POST /nodes/{i}/thaw.
func (h *Handler) thaw(w http.ResponseWriter, r *http.Request) {
	serveNode(h, w, r, "", func(t action.Freezer, node int) (int, error) {
		h.endLease(leaseKey{node: node, freeze: true})
		err := t.Thaw(h.life, node-h.first)
		h.log.Thawed(node, "", err)
		return 0, err
	})
}

// serveNode serves a capability C of one node that takes no parameters:
// do acts on the node (its number, as the path names it) and returns a
// count, which the answer gives under key beside the node (no count when
// key is "").
func serveNode[C any](h *Handler, w http.ResponseWriter, r *http.Request, key string, do func(t C, node int) (int, error)) {
	node, _, ok := h.nodeRequest(w, r, nil)
	if !ok {
		return
	}
	t, ok := capable[C](w, h.t)
	if !ok {
		return
	}
	n, err := do(t, node)
	if err != nil {
		writeError(w, h.failure(err), err)
		return
	}
	resp := map[string]int{"node": node}
	if key != "" {
		resp[key] = n
	}
	writeJSON(w, http.StatusOK, resp)
}

// nodeRequest reads the node of the path and the request's parameters,
// answering the request itself when they are wrong.
func (h *Handler) nodeRequest(w http.ResponseWriter, r *http.Request, known []string) (int, url.Values, bool) {
	node, err := h.node(r.PathValue("i"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return 0, nil, false
	}
	q, err := readParams(r, known)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return 0, nil, false
	}
	if h.life.Err() != nil {
		writeError(w, http.StatusServiceUnavailable, errStopping)
		return 0, nil, false
	}
	return node, q, true
}

// capable returns the handler's target as the capability C, or answers 501.
func capable[C any](w http.ResponseWriter, t Target) (C, bool) {
	c, ok := t.(C)
	if !ok {
		writeError(w, http.StatusNotImplemented, errNotCapable)
	}
	return c, ok
}

// failure is the status of a capability's error: 503 while the server
// shuts down, else 409 (the node is not in a state to do it).
func (h *Handler) failure(err error) int {
	if h.life.Err() != nil || errors.Is(err, net.ErrClosed) {
		return http.StatusServiceUnavailable
	}
	return http.StatusConflict
}

// parseEnding reads how connections end: code (default def) and reason,
// or drop=true for no close frame at all.
func parseEnding(q url.Values, def int) (e action.Ending, err error) {
	if s := q.Get("drop"); s != "" {
		if e.Drop, err = strconv.ParseBool(s); err != nil {
			return e, fmt.Errorf("drop %q is not true or false", s)
		}
	}
	if e.Drop {
		if q.Get("code") != "" || q.Get("reason") != "" {
			return e, errors.New("drop ends connections without a close frame: give no code or reason with it")
		}
		return e, nil
	}
	if e.Code, err = closeCode(q, def); err != nil {
		return e, err
	}
	e.Reason, err = reason(q)
	return e, err
}

// parsePick reads which connections of node an end picks: every one
// without fraction, else a share picked from seed.
func parsePick(q url.Values, node int, newSeed func() uint64) (p action.Pick, err error) {
	p.Node = node
	s := q.Get("fraction")
	if s == "" {
		if q.Get("seed") != "" {
			return p, errors.New("seed picks a share: give fraction with it, e.g. fraction=0.1")
		}
		return p, nil
	}
	if p.Fraction, err = fraction(s); err != nil {
		return p, err
	}
	p.Seed, err = seedParam(q, newSeed)
	return p, err
}
