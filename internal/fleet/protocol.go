package fleet

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/protocol"
)

// withSession adds to cfg the session parts of p beyond the plain script:
// the protocol preset's (its URL, subprotocols, script steps, reply rules,
// heartbeat and message framing) and the profile's own reply rules and
// heartbeat. The profile's own come first where both speak (its rules are
// tried first, its heartbeat replaces the preset's), so that a profile can
// override what a preset does with a message.
func withSession(cfg *Config, p *profile.Profile) error {
	s := p.Fleet.Session
	for i, r := range s.Reply {
		rule, err := replyFromProfile(r)
		if err != nil {
			return fmt.Errorf("fleet.session.reply.%d: %w", i, err)
		}
		cfg.Replies = append(cfg.Replies, rule)
	}
	cfg.Heartbeat = Heartbeat{Interval: s.Heartbeat.Interval.D(), Send: s.Heartbeat.Send}
	spec := p.Fleet.ProtocolOptions.Spec
	if spec == nil {
		return nil
	}
	name := p.Fleet.Protocol
	cfg.URL = protocolURL(cfg.URL, spec)
	for i := range cfg.URLs {
		if i == 0 {
			cfg.URLs = append([]string(nil), cfg.URLs...)
		}
		cfg.URLs[i] = protocolURL(cfg.URLs[i], spec)
	}
	if len(cfg.Subprotocols) == 0 {
		cfg.Subprotocols = spec.Subprotocols
	}
	var script []ScriptStep
	for i, st := range spec.Script {
		step, err := protocolStep(st)
		if err != nil {
			return fmt.Errorf("protocol %s: script step %d: %w", name, i, err)
		}
		script = append(script, step)
	}
	cfg.Script = append(script, cfg.Script...)
	for i, r := range spec.Replies {
		rule, err := replyFromProfile(r)
		if err != nil {
			return fmt.Errorf("protocol %s: reply %d: %w", name, i, err)
		}
		cfg.Replies = append(cfg.Replies, rule)
	}
	if cfg.Heartbeat.Interval == 0 {
		cfg.Heartbeat = Heartbeat{Interval: spec.Heartbeat.Interval, Send: spec.Heartbeat.Send}
	}
	if spec.Frame != nil && cfg.Message != "" {
		cfg.Message = spec.Frame(cfg.Message)
	}
	return nil
}

// protocolStep compiles a preset's script step.
func protocolStep(st protocol.Step) (ScriptStep, error) {
	out := ScriptStep{Send: st.Send, Expect: st.Expect, Reject: st.Reject, Timeout: st.Timeout}
	if out.Timeout == 0 && (st.Expect != "" || st.ExpectRegex != "") {
		out.Timeout = profile.DefaultScriptTimeout
	}
	var err error
	if st.ExpectRegex != "" {
		if out.ExpectRegex, err = regexp.Compile(st.ExpectRegex); err != nil {
			return out, err
		}
	}
	if st.RejectRegex != "" {
		if out.RejectRegex, err = regexp.Compile(st.RejectRegex); err != nil {
			return out, err
		}
	}
	return out, nil
}

// protocolURL gives raw the preset's path when it names none, and the
// preset's query parameters it lacks. It edits the text rather than a
// parsed URL, which would escape the braces of template variables.
func protocolURL(raw string, spec *protocol.Spec) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	path, query := tail, ""
	if i := strings.IndexAny(tail, "?#"); i >= 0 {
		path, query = tail[:i], tail[i:]
	}
	if (path == "" || path == "/") && spec.Path != "" {
		path = spec.Path
	}
	frag := ""
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query, frag = query[:i], query[i:]
	}
	for _, prm := range spec.Query {
		if hasParam(query, prm.Name) {
			continue
		}
		sep := "&"
		if query == "" {
			sep = "?"
		}
		query += sep + prm.Name + "=" + prm.Value
	}
	return scheme + "://" + authority + path + query + frag
}

// hasParam says whether query ("?a=1&b") has the parameter name.
func hasParam(query, name string) bool {
	for _, kv := range strings.Split(strings.TrimPrefix(query, "?"), "&") {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}
