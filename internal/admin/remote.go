package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/nodes"
)

// maxAnswer bounds an answer of the admin API: a status of 64 nodes takes
// a few KiB.
const maxAnswer = 1 << 20

var (
	_ action.Refuser = (*Remote)(nil)
	_ action.Ender   = (*Remote)(nil)
	_ action.Freezer = (*Remote)(nil)
)

// Remote is one target made of the admin APIs of one or several wsstorm
// serve processes that share one client address (--share-port), each
// serving its own range of node numbers (--first-node): a target with the
// chaos capabilities of internal/action whose node i is node i wherever it
// is named, in the welcome message, /status and the event log. Its methods
// are safe for concurrent use.
type Remote struct {
	client *http.Client
	url    string       // the clients' URL, the same on every part
	parts  []remotePart // by first node
	nodes  int
}

// remotePart is one serve process.
type remotePart struct {
	admin *url.URL // the admin API's base, ending in "/"
	first int      // its first node's number
	nodes int
}

func (p *remotePart) String() string { return p.admin.String() }

// span names the part's nodes, "2 to 3".
func (p *remotePart) span() string {
	return fmt.Sprintf("%d to %d", p.first, p.first+p.nodes-1)
}

// Dial reads the status of every admin API in adminURLs (each such as
// "http://127.0.0.1:9900/", as wsstorm serve prints it) and checks that
// together they are one target: their node ranges cover 0 to N-1, each
// node once, and they serve the same client URL. client makes the requests
// (nil: a client with no time limit of its own, which follows no
// redirects; contexts bound each call).
// ctx bounds Dial only.
func Dial(ctx context.Context, adminURLs []string, client *http.Client) (*Remote, error) {
	if len(adminURLs) == 0 {
		return nil, errors.New("no admin API to dial: give the admin URL of every wsstorm serve process")
	}
	if client == nil {
		// Only the URLs given are asked: a redirect is an answer, not a
		// new address.
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	r := &Remote{client: client, parts: make([]remotePart, len(adminURLs))}
	for i, s := range adminURLs {
		u, err := parseAdminURL(s)
		if err != nil {
			return nil, err
		}
		r.parts[i].admin = u
	}
	status := make([]statusResponse, len(r.parts))
	err := r.each(func(i int, p *remotePart) error {
		return r.call(ctx, p, http.MethodGet, "status", nil, &status[i])
	})
	if err != nil {
		return nil, err
	}
	for i := range r.parts {
		p, st := &r.parts[i], status[i]
		if st.URL == "" {
			return nil, fmt.Errorf("admin API at %s: its status names no client URL: give the admin URL a wsstorm serve printed (\"admin at ...\")", p)
		}
		if err := checkNumbering(st); err != nil {
			return nil, fmt.Errorf("admin API at %s: %w", p, err)
		}
		p.first, p.nodes = st.FirstNode, len(st.Nodes)
		if st.URL != status[0].URL {
			return nil, fmt.Errorf("admin APIs %s and %s serve different client URLs, %s and %s: start every wsstorm serve with the same --listen address and --share-port", r.parts[0].admin, p, status[0].URL, st.URL)
		}
	}
	r.url = status[0].URL
	slices.SortStableFunc(r.parts, func(a, b remotePart) int { return a.first - b.first })
	next := 0
	for i := range r.parts {
		p := &r.parts[i]
		switch {
		case p.first > next && i == 0:
			return nil, fmt.Errorf("no admin API has node 0: the first, %s, has nodes %s; start one wsstorm serve with --first-node 0", p, p.span())
		case p.first > next:
			q := &r.parts[i-1]
			return nil, fmt.Errorf("no admin API has %s: %s has nodes %s and %s has nodes %s; start a wsstorm serve with --first-node %d, or set --first-node so each starts where the one before ends", nodeSpan(next, p.first-1), q, q.span(), p, p.span(), next)
		case p.first < next:
			q := &r.parts[i-1]
			return nil, fmt.Errorf("node %d is served twice: %s has nodes %s and %s has nodes %s; give each wsstorm serve its own range with --first-node (or list each admin URL once)", p.first, q, q.span(), p, p.span())
		}
		next = p.first + p.nodes
	}
	r.nodes = next
	return r, nil
}

// parseAdminURL checks an admin URL and makes it a base that ends in "/".
func parseAdminURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("admin URL %q: want http://HOST:PORT/, as wsstorm serve prints it (\"admin at ...\")", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// checkNumbering checks that a status numbers its nodes from first_node up,
// in order.
func checkNumbering(st statusResponse) error {
	if len(st.Nodes) == 0 {
		return errors.New("its status lists no nodes")
	}
	if st.FirstNode < 0 {
		return fmt.Errorf("its status has first_node %d, want 0 or more", st.FirstNode)
	}
	for k, n := range st.Nodes {
		if n.Index != st.FirstNode+k {
			return fmt.Errorf("its status lists node %d where node %d belongs: it is not a wsstorm serve of this version", n.Index, st.FirstNode+k)
		}
	}
	return nil
}

// nodeSpan names the nodes from to last.
func nodeSpan(from, last int) string {
	if from == last {
		return fmt.Sprintf("node %d", from)
	}
	return fmt.Sprintf("nodes %d to %d", from, last)
}

// URL returns the WebSocket URL the clients dial, which every part serves.
func (r *Remote) URL() string { return r.url }

// Nodes returns the number of nodes over all parts.
func (r *Remote) Nodes() int { return r.nodes }

// AdminURLs returns the admin APIs' base URLs in node order.
func (r *Remote) AdminURLs() []string {
	out := make([]string, len(r.parts))
	for i := range r.parts {
		out[i] = r.parts[i].admin.String()
	}
	return out
}

// part returns the part that serves node (0 to Nodes()-1).
func (r *Remote) part(node int) (*remotePart, error) {
	if node < 0 || node >= r.nodes {
		return nil, fmt.Errorf("node %d: the target has nodes 0 to %d", node, r.nodes-1)
	}
	i, _ := slices.BinarySearchFunc(r.parts, node, func(p remotePart, node int) int {
		switch {
		case p.first+p.nodes <= node:
			return -1
		case p.first > node:
			return 1
		}
		return 0
	})
	return &r.parts[i], nil
}

// nodeCall calls a capability's endpoint of node on the part that serves
// it: POST /nodes/{node}/{what}.
func (r *Remote) nodeCall(ctx context.Context, node int, what string, q url.Values, out any) error {
	p, err := r.part(node)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if out == nil {
		out = &struct{}{}
	}
	return r.call(ctx, p, http.MethodPost, "nodes/"+strconv.Itoa(node)+"/"+what, q, out)
}

// Refuse takes node out of service through the admin API that serves it,
// which puts it back on its own a while after back if no Accept came.
func (r *Remote) Refuse(ctx context.Context, node int, e action.Ending, back time.Time) error {
	return r.nodeCall(ctx, node, "refuse", forQuery(endingQuery(e), back), nil)
}

// Accept puts node back in service through the admin API that serves it.
func (r *Remote) Accept(ctx context.Context, node int) (int, error) {
	var res struct {
		Late int `json:"late"`
	}
	err := r.nodeCall(ctx, node, "accept", nil, &res)
	return res.Late, err
}

// End ends the connections p picks through the admin APIs. A pick of one
// node goes to the part that serves it. A pick of every node goes to every
// part at once, and the counts add up: each part rounds its own share (at
// least one of its connections when it has any), so the total is within
// one per part of the fraction of all connections; each part picks from
// its own seed, derived from p.Seed and its place in node order, so the
// picks are reproducible and independent of each other, the first part
// using p.Seed itself. If some parts fail, End returns the others' count
// with their errors.
func (r *Remote) End(ctx context.Context, p action.Pick, e action.Ending, spread time.Duration) (int, error) {
	if err := p.Check(r.nodes); err != nil {
		return 0, fmt.Errorf("end: %w", err)
	}
	query := func(seed uint64) url.Values {
		q := endingQuery(e)
		if p.Fraction > 0 {
			q.Set("fraction", strconv.FormatFloat(p.Fraction, 'g', -1, 64))
			q.Set("seed", strconv.FormatUint(seed, 10))
		}
		q.Set("spread", spread.String())
		return q
	}
	if p.Node >= 0 {
		var res endResponse
		err := r.nodeCall(ctx, p.Node, "end", query(p.Seed), &res)
		return res.Ended, err
	}
	counts := make([]int, len(r.parts))
	err := r.each(func(i int, part *remotePart) error {
		var res endResponse
		if err := r.call(ctx, part, http.MethodPost, "end", query(partSeed(p.Seed, i)), &res); err != nil {
			return err
		}
		counts[i] = res.Ended
		return nil
	})
	ended := 0
	for _, n := range counts {
		ended += n
	}
	if err != nil {
		return ended, fmt.Errorf("end: %w", err)
	}
	return ended, nil
}

// Freeze stops node's traffic through the admin API that serves it, which
// thaws it on its own a while after back if no Thaw came.
func (r *Remote) Freeze(ctx context.Context, node int, back time.Time) (int, error) {
	var res struct {
		Frozen int `json:"frozen"`
	}
	err := r.nodeCall(ctx, node, "freeze", forQuery(url.Values{}, back), &res)
	return res.Frozen, err
}

// forQuery sets the for parameter, the time until back, when back is set.
func forQuery(q url.Values, back time.Time) url.Values {
	if !back.IsZero() {
		q.Set("for", max(time.Until(back), 0).Round(time.Millisecond).String())
	}
	return q
}

// Thaw resumes node's traffic through the admin API that serves it.
func (r *Remote) Thaw(ctx context.Context, node int) error {
	return r.nodeCall(ctx, node, "thaw", nil, nil)
}

// endingQuery is the parameters of how connections end.
func endingQuery(e action.Ending) url.Values {
	q := url.Values{}
	switch {
	case e.Drop:
		q.Set("drop", "true")
	default:
		if e.Code != 0 {
			q.Set("code", strconv.Itoa(e.Code))
		}
		if e.Reason != "" {
			q.Set("reason", e.Reason)
		}
	}
	return q
}

// partSeed is the seed of the i-th part's close: seed itself for the
// first, a SplitMix64 step from it for the others, below 2^53 like the
// API's own seeds.
func partSeed(seed uint64, i int) uint64 {
	if i == 0 {
		return seed
	}
	z := seed + uint64(i)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return (z ^ z>>31) >> 11
}

// Stats returns every node's counters, in node order, read from every
// part's /status at once; a node is up when its state is nodes.StateUp. A part
// whose nodes changed since Dial (a serve restarted with other flags) is
// an error.
func (r *Remote) Stats(ctx context.Context) ([]nodes.Stats, error) {
	status := make([]statusResponse, len(r.parts))
	err := r.each(func(i int, p *remotePart) error {
		st := &status[i]
		if err := r.call(ctx, p, http.MethodGet, "status", nil, st); err != nil {
			return err
		}
		if st.FirstNode != p.first || len(st.Nodes) != p.nodes || st.URL != r.url {
			return fmt.Errorf("admin API at %s: it now serves nodes %d to %d at %s, not nodes %s at %s: was its wsstorm serve restarted with other flags?",
				p, st.FirstNode, st.FirstNode+len(st.Nodes)-1, st.URL, p.span(), r.url)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]nodes.Stats, 0, r.nodes)
	for _, st := range status {
		for _, n := range st.Nodes {
			out = append(out, nodes.Stats{
				Index:    n.Index,
				Conns:    n.Conns,
				Accepted: n.Accepted,
				Rejected: n.Rejected,
				// A frozen node is up, as the target and the proxy say:
				// it stalls its handshakes but refuses none.
				Up: n.State == nodes.StateUp || n.State == nodes.StateFrozen,
			})
		}
	}
	return out, nil
}

// each calls f for every part at once and joins their errors.
func (r *Remote) each(f func(i int, p *remotePart) error) error {
	errs := make([]error, len(r.parts))
	var wg sync.WaitGroup
	for i := range r.parts {
		wg.Go(func() { errs[i] = f(i, &r.parts[i]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// answerError is an admin API's answer with an error status.
type answerError struct {
	admin   string // the admin API's base URL
	request string // "POST /close"
	status  string // "409 Conflict"
	msg     string // the API's one-line error
}

func (e *answerError) Error() string {
	return fmt.Sprintf("admin API at %s: %s: %s: %s", e.admin, e.request, e.status, e.msg)
}

// call sends one request to a part's admin API and decodes its JSON answer
// into out. An error status is an *answerError with the API's message; out
// still gets what the answer holds (a failed restart's closed count).
func (r *Remote) call(ctx context.Context, p *remotePart, method, path string, q url.Values, out any) error {
	u := p.admin.JoinPath(path)
	u.RawQuery = q.Encode()
	request := method + " /" + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return fmt.Errorf("admin API at %s: %s: %w", p, request, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which the message names already
		}
		if ctx.Err() != nil {
			return fmt.Errorf("admin API at %s: %s: abandoned: %w", p, request, err)
		}
		return fmt.Errorf("admin API at %s: %s: %w; check that its wsstorm serve is running and the URL is the one it printed (\"admin at ...\")", p, request, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("admin API at %s: %s: reading the answer: %w", p, request, err)
	}
	jsonErr := json.Unmarshal(body, out)
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := firstLine(body)
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &answerError{admin: p.String(), request: request, status: resp.Status, msg: msg}
	}
	if jsonErr != nil {
		return fmt.Errorf("admin API at %s: %s: the answer is not wsstorm's JSON (%v): check that the URL is the admin address a wsstorm serve printed (\"admin at ...\")", p, request, jsonErr)
	}
	return nil
}

// firstLine is the first line of a body that is not the API's JSON,
// shortened, for an error message.
func firstLine(body []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(body), []byte("\n"))
	s := strings.ToValidUTF8(string(bytes.TrimSpace(line)), "\uFFFD")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	if s == "" {
		return "no message"
	}
	return s
}
