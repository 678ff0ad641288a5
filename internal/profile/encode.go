package profile

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// topKeys is the order of profile.toml's sections: the run's identity first,
// then what a reader looks for, the target, the fleet and the timeline.
var topKeys = []string{"name", "duration", "seed", "thresholds", "target", "fleet", "chaos"}

// topLevelOrder returns tree's keys in topKeys' order, the keys topKeys does
// not know after them in name order, and every plain value before every
// table: a value written after a table header would belong to the table.
func topLevelOrder(tree map[string]any) []string {
	keys := slices.Sorted(maps.Keys(tree))
	rank := func(k string) int {
		if i := slices.Index(topKeys, k); i >= 0 {
			return i
		}
		return len(topKeys)
	}
	isTable := func(k string) bool {
		switch tree[k].(type) {
		case map[string]any, []map[string]any:
			return true
		}
		return false
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		if ta, tb := isTable(a), isTable(b); ta != tb {
			if ta {
				return 1
			}
			return -1
		}
		return rank(a) - rank(b)
	})
	return keys
}

// WriteTOML writes p as the TOML profile it amounts to (a run's
// profile.toml): the file as read, with the defaults filled in and the --set
// overrides applied. Secrets (values from the environment, header values
// given with --set, a URL's password) are "[redacted]". Only keys that apply
// are written — no embedded target keys for an external target, only a
// step's own keys — so the file is a valid profile that Parse reads back to
// the same run, bar the secrets.
func (p *Profile) WriteTOML(w io.Writer) error {
	tree, err := profileTree(p)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	from := "the built-in default profile"
	if p.Path != BuiltinPath && p.Path != "" {
		from = tomlComment(p.Redact(p.Path))
	}
	fmt.Fprintf(&b, "# The effective profile of this run: %s with the defaults filled in", from)
	if len(p.Overrides) > 0 {
		b.WriteString(" and these overrides applied:\n")
		for _, o := range p.RedactedOverrides() {
			fmt.Fprintf(&b, "#   --set %s\n", tomlComment(o))
		}
	} else {
		b.WriteString(".\n")
	}
	b.WriteString("# Secrets are [redacted]. Run it again with: wsstorm run profile.toml\n")
	if pr := p.Fleet.ClientOptions.Preset; pr != nil {
		if t := pr.ConnectTimeout(); t > 0 {
			fmt.Fprintf(&b, "# Its connect attempts time out after %v, %s's own connect timeout, which takes the place of fleet.handshake_timeout.\n", t, p.Fleet.Client)
		} else {
			fmt.Fprintf(&b, "# Its connect attempts have no time limit, as %s sets none: fleet.handshake_timeout does not apply to them.\n", p.Fleet.Client)
		}
	}
	if p.ScaleExact != "" {
		fmt.Fprintf(&b, "# Its times are scaled already (--scale %s): run it without --scale or --quick.\n", p.ScaleExact)
	}
	// One key at a time, in topKeys' order: the encoder sorts a map's keys.
	for i, k := range topLevelOrder(tree) {
		v := tree[k]
		var kb bytes.Buffer
		enc := toml.NewEncoder(&kb)
		enc.Indent = ""
		if err := enc.Encode(map[string]any{k: v}); err != nil {
			return fmt.Errorf("encode the profile's %s: %w", k, err)
		}
		if i == 0 || strings.HasPrefix(kb.String(), "[") {
			b.WriteByte('\n')
		}
		// A blank line before each table header, which the encoder leaves
		// out for nested tables. Strings are written on one line, so a line
		// that starts with '[' is a header.
		lines := strings.SplitAfter(kb.String(), "\n")
		for j, line := range lines {
			if j > 0 && strings.HasPrefix(line, "[") && lines[j-1] != "\n" {
				b.WriteByte('\n')
			}
			b.WriteString(line)
		}
	}
	_, err = w.Write(b.Bytes())
	return err
}

// tomlComment keeps s on one comment line.
func tomlComment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// profileTree returns p as TOML tables, without the keys that do not apply
// and with the secrets redacted.
func profileTree(p *Profile) (map[string]any, error) {
	// The struct's own encoding (durations as text, TOML names), read back
	// as tables to drop what does not apply.
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(p); err != nil {
		return nil, fmt.Errorf("encode the profile: %w", err)
	}
	var tree map[string]any
	if _, err := toml.Decode(b.String(), &tree); err != nil {
		return nil, fmt.Errorf("encode the profile: %w", err)
	}
	// Value by value rather than over the text: a secret that happens to
	// read like TOML ("true", "2000") must not break the file.
	redactStrings(p, tree)
	if target, ok := tree["target"].(map[string]any); ok {
		targetTree(p, target)
	}
	if fleet, ok := tree["fleet"].(map[string]any); ok {
		if err := fleetTree(p, fleet); err != nil {
			return nil, err
		}
	}
	if len(p.Chaos) == 0 {
		delete(tree, "chaos")
	} else if steps, ok := tree["chaos"].([]map[string]any); ok {
		for i, step := range steps {
			if err := stepParams(p, p.Chaos[i].Params, step); err != nil {
				return nil, err
			}
		}
	}
	return tree, nil
}

// fleetTree gives fleet, p's [fleet] as tables, the protocol preset's
// options, and drops the tables that say nothing: the options without a
// preset, a heartbeat that is never sent.
func fleetTree(p *Profile, fleet map[string]any) error {
	delete(fleet, "protocol_options")
	if p.Fleet.Protocol == "" {
		delete(fleet, "protocol")
	} else if opts := p.Fleet.ProtocolOptions.Params; opts != nil {
		tbl := map[string]any{}
		if err := stepParams(p, opts, tbl); err != nil {
			return err
		}
		// As written: ${NAME} references stay, to be expanded again, and
		// a credential from --set is "[redacted]"; any other '$' is a
		// literal one, escaped so that it loads back.
		for k, v := range tbl {
			switch v := v.(type) {
			case string:
				tbl[k] = escapeDollar(v)
			case []any:
				for i, e := range v {
					if s, ok := e.(string); ok {
						v[i] = escapeDollar(s)
					}
				}
			}
		}
		for k, w := range p.Fleet.ProtocolOptions.Written {
			tbl[k] = w
		}
		fleet["protocol_options"] = tbl
	}
	if err := clientTree(p, fleet); err != nil {
		return err
	}
	s, _ := fleet["session"].(map[string]any)
	if s != nil && p.Fleet.Session.Heartbeat.Interval.D() == 0 {
		delete(s, "heartbeat")
	}
	// A reply rule's keys left out: one matcher of three is written.
	if rules, ok := s["reply"].([]map[string]any); ok {
		for _, r := range rules {
			for k, v := range r {
				if v == "" {
					delete(r, k)
				}
			}
		}
	}
	return nil
}

// clientTree gives fleet the client preset's options, all of them, and
// drops the keys of [fleet.reconnect] the preset replaces, which a profile
// with a preset may not give; without a preset, it drops the preset's keys.
func clientTree(p *Profile, fleet map[string]any) error {
	delete(fleet, "client_options")
	if p.Fleet.Client == "" {
		delete(fleet, "client")
		return nil
	}
	if r, ok := fleet["reconnect"].(map[string]any); ok {
		for _, k := range ClientReplaces() {
			delete(r, k)
		}
		if len(r) == 0 {
			delete(fleet, "reconnect")
		}
	}
	if opts := p.Fleet.ClientOptions.Params; opts != nil {
		tbl := map[string]any{}
		if err := stepParams(p, opts, tbl); err != nil {
			return err
		}
		fleet["client_options"] = tbl
	}
	return nil
}

// stepParams adds a step's own keys, its action's parameters, to step:
// those whose value says something (an empty list of nodes means every
// node, an empty reason the default one).
func stepParams(p *Profile, params any, step map[string]any) error {
	if params == nil {
		return nil
	}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(params); err != nil {
		return fmt.Errorf("encode the profile: %w", err)
	}
	var keys map[string]any
	if _, err := toml.Decode(b.String(), &keys); err != nil {
		return fmt.Errorf("encode the profile: %w", err)
	}
	redactStrings(p, keys)
	for k, v := range keys {
		switch v := v.(type) {
		case string:
			if v == "" {
				continue
			}
		case []any:
			if len(v) == 0 {
				continue
			}
		}
		step[k] = v
	}
	return nil
}

// targetTree drops from target, p's [target] as tables, the keys that do
// not apply to its mode, as the profile's validation decides it, and the
// tables left at their zero value where validation would reject them: an
// empty [target.tls] is "TLS settings" for a ws:// URL.
func targetTree(p *Profile, target map[string]any) {
	t := &p.Target
	for k, empty := range map[string]bool{
		"urls": len(t.URLs) == 0, "subprotocols": len(t.Subprotocols) == 0, "origin": t.Origin == "",
		"headers": len(t.Headers) == 0, "tls": t.TLS == (TLS{}),
	} {
		if empty {
			delete(target, k)
		}
	}
	if tls, ok := target["tls"].(map[string]any); ok {
		for k, v := range tls {
			if v == "" || v == false {
				delete(tls, k)
			}
		}
	}
	if t.Mode != ModeExternal {
		delete(target, "on_hook_failure")
	}
	switch t.Mode {
	case ModeExternal:
		delete(target, "nodes")
		delete(target, "listen")
		delete(target, "capacity")
		if hooks := nodeHookTables(p); len(hooks) > 0 {
			target["nodes"] = hooks
		}
		// By structure too: a secret too short for Redact to look for
		// everywhere still goes whole from a header or a URL.
		u, headers := p.RedactedTarget()
		// A literal '[' makes a URL's userinfo invalid, and the file must
		// stay a profile that loads.
		target["url"] = escapeDollar(strings.ReplaceAll(u, Redacted, url.PathEscape(Redacted)))
		if h, ok := target["headers"].(map[string]any); ok {
			for k, v := range headers {
				h[k] = escapeDollar(v)
			}
		}
	case ModeProxy:
		// The upstream's URL and headers are taken as written, without
		// ${NAME} expansion, so a '$' stays as it is; its password goes.
		delete(target, "capacity")
		u, _ := p.RedactedTarget()
		target["url"] = strings.ReplaceAll(u, Redacted, url.PathEscape(Redacted))
	default:
		delete(target, "url")
		delete(target, "headers")
		delete(target, "tls")
	}
}

// redactStrings redacts p's secrets in every string of v, in place.
func redactStrings(p *Profile, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok {
				v[k] = p.Redact(s)
				continue
			}
			redactStrings(p, e)
		}
	case []map[string]any:
		for _, e := range v {
			redactStrings(p, e)
		}
	case []any:
		for i, e := range v {
			if s, ok := e.(string); ok {
				v[i] = p.Redact(s)
				continue
			}
			redactStrings(p, e)
		}
	}
}

// escapeDollar writes a literal '$' as "$$": the profile expands ${NAME} in
// the URL and header values, and its effective value holds the expansion.
func escapeDollar(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// nodeHookTables returns an external target's [[target.nodes]] as tables,
// secrets redacted, without the keys a hook leaves empty.
func nodeHookTables(p *Profile) []map[string]any {
	var out []map[string]any
	for _, h := range p.Target.NodeHooks {
		var m map[string]any
		if restart, ok := h.Hook(RestartHook); ok {
			m = hookTable(p, restart)
		} else {
			m = map[string]any{"timeout": h.Timeout.String(), "window": h.Window.String()}
		}
		m["name"] = p.Redact(h.Name)
		if len(h.Hooks) > 0 {
			hooks := map[string]any{}
			for name, hk := range h.Hooks {
				hooks[name] = hookTable(p, hk)
			}
			m["hooks"] = hooks
		}
		out = append(out, m)
	}
	return out
}

// hookTable returns a hook as a table, secrets redacted, without the keys
// it leaves empty.
func hookTable(p *Profile, h Hook) map[string]any {
	m := map[string]any{"timeout": h.Timeout.String(), "window": h.Window.String()}
	if len(h.Command) > 0 {
		args := make([]any, len(h.Command))
		for i, a := range h.Command {
			args[i] = escapeDollar(p.Redact(a))
		}
		m["command"] = args
		return m
	}
	web := map[string]any{"method": h.HTTP.Method, "url": escapeDollar(p.Redact(h.HTTP.URL))}
	if h.HTTP.Status != 0 {
		web["status"] = h.HTTP.Status
	}
	if h.HTTP.Body != "" {
		web["body"] = escapeDollar(p.Redact(h.HTTP.Body))
	}
	if len(h.HTTP.Headers) > 0 {
		hdr := map[string]any{}
		for k, v := range h.HTTP.Headers {
			hdr[k] = escapeDollar(p.Redact(v))
		}
		web["headers"] = hdr
	}
	m["http"] = web
	return m
}
