package profile

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/tmpl"
)

// clientVars are the template variables of a client's URL and messages.
var clientVars = []string{"client", "session", "key", "uuid", "seq"}

// ClientVars returns the template variables of a client's URL and messages,
// in a fixed order: package fleet numbers them by it.
func ClientVars() []string { return slices.Clone(clientVars) }

// templateProblem returns what is wrong with the {{var}} references of s,
// given the variables allowed, or "".
func templateProblem(s string, vars []string) string {
	_, err := tmpl.Parse(s, vars)
	var p *tmpl.Problem
	if !errors.As(err, &p) {
		return ""
	}
	if p.Ref == "" {
		return p.Error()
	}
	return p.Error() + didYouMean(p.Name, vars)
}

// hookDefaults fills what each [[target.nodes]] entry and each of its hooks
// left out, names the nodes that have no name, and makes target.nodes the
// number of nodes, so a chaos step addresses an external target's nodes as
// it does the embedded target's.
func (d *decoder) hookDefaults(p *Profile) {
	for i := range p.Target.NodeHooks {
		h := &p.Target.NodeHooks[i]
		key := func(name ...string) []string { return join([]string{"target", "nodes", strconv.Itoa(i)}, name...) }
		if !d.given(key("name")...) {
			h.Name = "node" + strconv.Itoa(i)
		}
		d.hookTimes(&h.Timeout, &h.Window, &h.HTTP, key)
		for name, hk := range h.Hooks {
			sub := func(k ...string) []string { return key(append([]string{"hooks", name}, k...)...) }
			d.hookTimes(&hk.Timeout, &hk.Window, &hk.HTTP, sub)
			h.Hooks[name] = hk
		}
	}
	if len(p.Target.NodeHooks) > 0 {
		p.Target.Nodes = len(p.Target.NodeHooks)
	}
}

// hookTimes fills a hook's timeout, window and HTTP method where the hook
// at key left them out.
func (d *decoder) hookTimes(timeout, window *Duration, h *HookHTTP, key func(...string) []string) {
	if !d.given(key("timeout")...) {
		*timeout = Dur(DefaultHookTimeout)
	}
	if !d.given(key("window")...) {
		*window = *timeout
	}
	if h.URL != "" && !d.given(key("http", "method")...) {
		h.Method = DefaultHookMethod
	}
}

// nodeHooks checks the [[target.nodes]] of an external target.
func (c *checker) nodeHooks() {
	t := c.p.Target
	switch t.OnHookFailure {
	case OnHookFailureContinue, OnHookFailureAbort:
	default:
		opts := []string{OnHookFailureContinue, OnHookFailureAbort}
		c.bad([]string{"target", "on_hook_failure"}, "%q is not a choice: use %s%s", t.OnHookFailure, orList(opts), didYouMean(t.OnHookFailure, opts))
	}
	if len(t.NodeHooks) > MaxNodes {
		c.bad([]string{"target", "nodes"}, "%d nodes are too many: use at most %d", len(t.NodeHooks), MaxNodes)
	}
	names := map[string]int{}
	for i, h := range t.NodeHooks {
		key := func(name ...string) []string { return join([]string{"target", "nodes", strconv.Itoa(i)}, name...) }
		if j, dup := names[h.Name]; dup {
			c.bad(key("name"), "%q is also the name of target.nodes.%d: give each node its own name", h.Name, j)
		}
		names[h.Name] = i
		restart, _ := h.Hook(RestartHook)
		switch c.hookWays(restart, key) {
		case 2:
			c.bad(key(), "has both command and http: a node restarts one way; keep one")
		case 0:
			if len(h.Hooks) == 0 {
				c.badAt(key("command"), key(), `missing: say how to restart the node, with command = ["kubectl", "rollout", "restart", "deploy/web"] or http = { url = "http://..." }`)
			}
		default:
			c.hook(RestartHook, restart, key, hookVars(RestartHook))
		}
		c.hookTiming(restart, key)
		for _, name := range slices.Sorted(maps.Keys(h.Hooks)) {
			c.actionHook(name, h.Hooks[name], func(k ...string) []string { return key(append([]string{"hooks", name}, k...)...) })
		}
	}
}

// actionHook checks a node's hook of the name, at key.
func (c *checker) actionHook(name string, h Hook, key func(...string) []string) {
	names := hookNames()
	switch {
	case name == RestartHook:
		c.bad(key(), "the restart hook is the node's own command or http request: move it there")
		return
	case !slices.Contains(names, name):
		c.bad(key(), "%q is not an action with a hook: use %s%s", name, orList(names), didYouMean(name, names))
		return
	}
	switch c.hookWays(h, key) {
	case 2:
		c.bad(key(), "has both command and http: a hook runs one way; keep one")
	case 0:
		c.badAt(key("command"), key(), `missing: say how the node carries out a %s, with command = [...] or http = { url = "http://..." }`, name)
	default:
		c.hook(name, h, key, hookVars(name))
	}
	c.hookTiming(h, key)
}

// hookWays counts the ways the hook at key is given: a command, an http
// request, both, or none.
func (c *checker) hookWays(h Hook, key func(...string) []string) int {
	n := 0
	if len(h.Command) > 0 {
		n++
	}
	if h.HTTP.URL != "" || h.HTTP.Body != "" || h.HTTP.Status != 0 || len(h.HTTP.Headers) > 0 || c.d.given(key("http")...) {
		n++
	}
	return n
}

// hook checks the command or request of the hook of the name, whose
// templates may use vars.
func (c *checker) hook(name string, h Hook, key func(...string) []string, vars []string) {
	if len(h.Command) == 0 {
		c.hookHTTP(name, h.HTTP, key, vars)
		return
	}
	if h.Command[0] == "" {
		c.bad(key("command", "0"), "is empty: the first element is the program to run")
	}
	for j, arg := range h.Command {
		if msg := templateProblem(arg, vars); msg != "" {
			c.bad(key("command", strconv.Itoa(j)), "%s", msg)
		}
	}
}

// hookTiming checks a hook's timeout and window.
func (c *checker) hookTiming(h Hook, key func(...string) []string) {
	if h.Timeout.D() <= 0 {
		c.bad(key("timeout"), `%v is too short: a hook needs time to run, e.g. "60s"`, h.Timeout.D())
	}
	if h.Window.D() < 0 {
		c.notNegative(h.Window, key("window")...)
	}
}

// hookNames lists the names of the hooks other than the restart hook, from
// the actions that have one.
func hookNames() []string {
	var out []string
	for _, name := range action.Names() {
		a, _ := action.Lookup(name)
		if h, ok := a.(action.Hooked); ok && h.Hook().Name != RestartHook && !slices.Contains(out, h.Hook().Name) {
			out = append(out, h.Hook().Name)
		}
	}
	return out
}

// hookVars are the template variables of the hook of the name: the node's
// number and name, then the action's.
func hookVars(name string) []string {
	vars := []string{"node", "name"}
	for _, an := range action.Names() {
		a, _ := action.Lookup(an)
		if h, ok := a.(action.Hooked); ok && h.Hook().Name == name {
			return append(vars, h.Hook().Vars...)
		}
	}
	return vars
}

func (c *checker) hookHTTP(name string, h HookHTTP, key func(...string) []string, vars []string) {
	path := key("http", "url")
	// Templates may stand anywhere, the host included: check the URL as it
	// will be sent.
	switch u, err := url.Parse(tmpl.Expand(h.URL, func(string) string { return "0" })); {
	case h.URL == "":
		what := "restarts the node"
		if name != RestartHook {
			what = "carries out a " + name + " of the node"
		}
		c.badAt(path, key("http"), `missing: write the URL that %s, e.g. url = "http://127.0.0.1:9900/nodes/{{node}}/%s"`, what, name)
	case c.d.failed[keyString(path)]:
	case err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		c.bad(path, "is not an http:// or https:// URL with a host")
	default:
		if msg := templateProblem(h.URL, vars); msg != "" {
			c.bad(path, "%s", msg)
		}
	}
	switch h.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
		c.bad(key("http", "method"), "%q is not a method a hook sends: use %s", h.Method, orList(methods))
	}
	if h.Status != 0 && (h.Status < 100 || h.Status > 599) {
		c.bad(key("http", "status"), "%d is not an HTTP status: use 100 to 599, or 0 for any 2xx", h.Status)
	}
	for name, v := range h.Headers {
		hk := key("http", "headers", name)
		if !isToken(name) {
			c.bad(hk, `%s is not a header name: use letters, digits and -, e.g. "Authorization"`, quoteShort(name))
		} else if !c.d.failed[keyString(hk)] && !validHeaderValue(v) {
			c.bad(hk, "the value has a control character (a line break, NUL, ...), which a header value cannot carry")
		}
	}
	if msg := templateProblem(h.Body, vars); msg != "" {
		c.bad(key("http", "body"), "%s", msg)
	}
}

// detect checks [detect]: observe mode triggers nothing itself.
func (c *checker) detect() {
	d := c.p.Detect
	if !d.Enabled {
		return
	}
	if len(c.p.Chaos) > 0 {
		c.bad([]string{"detect", "enabled"}, "true finds restarts that happen elsewhere, but the profile has [[chaos]] steps of its own: remove the steps, or set enabled = false")
	}
	if d.Gap.D() <= 0 || d.Gap.D() > time.Hour {
		c.bad([]string{"detect", "gap"}, `%v is out of range: closes this close together form one event; use e.g. "1s" (above 0, at most 1h)`, d.Gap.D())
	}
	if d.MinCloses < 1 {
		c.bad([]string{"detect", "min_closes"}, "%d is too small: a burst needs at least 1 close to be an event", d.MinCloses)
	}
}

// targetURLs checks target.urls, an external target's list of URLs.
func (c *checker) targetURLs() {
	t := c.p.Target
	if len(t.URLs) == 0 {
		if c.d.given("target", "urls") {
			c.bad([]string{"target", "urls"}, "is empty: list the URLs clients spread over, or use url for one")
		}
		return
	}
	if t.URL != "" {
		c.bad([]string{"target", "urls"}, "and target.url are both set: use url for one URL, urls for several")
	}
	for i, raw := range t.URLs {
		path := []string{"target", "urls", strconv.Itoa(i)}
		if c.d.failed[keyString(path)] {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "ws" && u.Scheme != "wss" || u.Hostname() == "" {
			c.bad(path, `is not a ws:// or wss:// URL with a host, e.g. "wss://ws1.example.test/socket"`)
			continue
		}
		if msg := templateProblem(raw, clientVars); msg != "" {
			c.bad(path, "%s", msg)
		}
	}
}

// handshakeExtras checks target.subprotocols and target.origin.
func (c *checker) handshakeExtras() {
	t := c.p.Target
	seen := map[string]bool{}
	for i, sp := range t.Subprotocols {
		path := []string{"target", "subprotocols", strconv.Itoa(i)}
		switch {
		case !isToken(sp):
			c.bad(path, `%s is not a subprotocol name: use a token such as "v2.json.example"`, quoteShort(sp))
		case seen[sp]:
			c.bad(path, "%q is listed twice", sp)
		}
		seen[sp] = true
	}
	if len(t.Subprotocols) > 0 {
		for name := range t.Headers {
			if strings.EqualFold(name, "Sec-WebSocket-Protocol") {
				c.bad([]string{"target", "headers", name}, "and target.subprotocols both offer subprotocols: keep subprotocols and remove the header")
			}
		}
	}
	if o := t.Origin; o != "" {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || strings.ContainsAny(o, "\r\n") {
			c.bad([]string{"target", "origin"}, `%s is not an origin: write scheme://host[:port], e.g. "https://app.example.test"`, quoteShort(o))
		}
	}
}
