package profile

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wsstorm/wsstorm/internal/optstruct"
	"github.com/wsstorm/wsstorm/internal/protocol"
)

// protocolDefaults gives a profile with a preset and no periodic text
// message no periodic messages unless it asks for them: the binary messages
// of the default would be frames the protocol's server does not know, and
// real servers close the session on them (Centrifugo with 3501, graphql-ws
// with 4400).
func (d *decoder) protocolDefaults(p *Profile) {
	s := &p.Fleet.Session
	if p.Fleet.Protocol != "" && s.Message == "" && !d.given("fleet", "session", "send_interval") {
		s.SendInterval = Dur(0)
	}
}

// protocol checks fleet.protocol and builds the preset's session parts from
// its options, their ${NAME} values taken from the environment.
func (c *checker) protocol() {
	f := &c.p.Fleet
	if f.Protocol == "" {
		return
	}
	path := []string{"fleet", "protocol"}
	pr, ok := protocol.Lookup(f.Protocol)
	if !ok {
		msg := fmt.Sprintf("%q is not a protocol preset: use one of %s, or remove it for raw WebSocket", f.Protocol, strings.Join(protocol.Names(), ", "))
		if s := closest(f.Protocol, protocol.Names()); s != "" {
			msg = fmt.Sprintf("%q is not a protocol preset (did you mean %q?)", f.Protocol, s)
		}
		c.bad(path, "%s", msg)
		return
	}
	if c.p.Target.Mode == ModeEmbedded {
		c.bad(path, "%s needs a server that speaks it, and the embedded target speaks no protocol: set target.mode = \"external\" with the server's URL, or \"proxy\" in front of it", f.Protocol)
		return
	}
	if s := f.Session; s.Message == "" && s.SendInterval.D() > 0 {
		c.bad([]string{"fleet", "session", "send_interval"}, "%v sends binary messages, which a %s server does not know and may end the session on: give the messages in the protocol's words (fleet.session.message), or use 0s", s.SendInterval.D(), f.Protocol)
	}
	opts := f.ProtocolOptions.Params
	if opts == nil || c.d.errs.under("fleet.protocol_options") {
		return
	}
	c.expandOptions(opts)
	spec, err := pr.Build(opts)
	if err != nil {
		where := []string{"fleet", "protocol_options"}
		var oe *protocol.OptionError
		if errors.As(err, &oe) {
			where = join(where, oe.Key)
		}
		c.bad(where, "%s", oeMessage(err))
		return
	}
	if msg := specTemplateProblem(spec); msg != "" {
		c.bad([]string{"fleet", "protocol_options"}, "make a message of %s that is not a template: it %s; look for {{ and }} in the options", f.Protocol, msg)
		return
	}
	f.ProtocolOptions.Spec = &spec
}

// specTemplateProblem says what is wrong with the first of a preset's
// messages that is not a template the fleet takes, or "": an option's value
// becomes part of them, and may hold half a {{name}}.
func specTemplateProblem(s protocol.Spec) string {
	texts := []string{s.Heartbeat.Send}
	if s.Frame != nil {
		texts = append(texts, s.Frame("message"))
	}
	for _, st := range s.Script {
		texts = append(texts, st.Send, st.Expect)
	}
	for _, r := range s.Replies {
		texts = append(texts, r.Send)
	}
	for _, t := range texts {
		if msg := templateProblem(t, clientVars); msg != "" {
			// Not quoted: the message holds the options' values, secrets
			// too, escaped as JSON, which redaction would not find.
			return msg
		}
	}
	return ""
}

// expandOptions replaces ${NAME} in the string options of opts with the
// environment's values, which become secrets, and keeps what was written
// for the effective profile. A credential option given with --set is a
// secret too, as a header is.
func (c *checker) expandOptions(opts any) {
	po := &c.p.Fleet.ProtocolOptions
	ov := reflect.ValueOf(opts).Elem()
	for i := range ov.NumField() {
		fv := ov.Field(i)
		name, _, _ := strings.Cut(ov.Type().Field(i).Tag.Get("toml"), ",")
		path := []string{"fleet", "protocol_options", name}
		switch {
		case fv.Kind() == reflect.String:
			written := fv.String()
			fv.SetString(c.expandOne(path, written))
			if c.d.seen[keyString(path)].set && optstruct.Secret(opts, name) && fv.String() != "" {
				c.addSecret(fv.String())
				written = Redacted
			}
			if written != fv.String() {
				po.written(name, written)
			}
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
			written, changed := make([]string, fv.Len()), false
			for j := range fv.Len() {
				el := fv.Index(j)
				written[j] = el.String()
				el.SetString(c.expandOne(join(path, strconv.Itoa(j)), el.String()))
				changed = changed || el.String() != written[j]
			}
			if changed {
				po.written(name, written)
			}
		}
	}
}

// written keeps what the profile wrote for option name, v.
func (po *ProtocolOptions) written(name string, v any) {
	if po.Written == nil {
		po.Written = map[string]any{}
	}
	po.Written[name] = v
}

// replies checks [[fleet.session.reply]] and [fleet.session.heartbeat].
func (c *checker) replies() {
	s := c.p.Fleet.Session
	for i, r := range s.Reply {
		c.reply([]string{"fleet", "session", "reply", strconv.Itoa(i)}, r)
	}
	hb := []string{"fleet", "session", "heartbeat"}
	switch iv := s.Heartbeat.Interval.D(); {
	case iv < 0:
		c.notNegative(s.Heartbeat.Interval, "fleet", "session", "heartbeat", "interval")
	case iv > 0 && s.Heartbeat.Send == "":
		c.badAt(join(hb, "send"), hb, "is missing: a heartbeat every %v sends a message; write it, e.g. send = '[null,\"{{seq}}\",\"phoenix\",\"heartbeat\",{}]'", iv)
	case iv == 0 && s.Heartbeat.Send != "":
		c.badAt(join(hb, "interval"), hb, "is missing: say how often the heartbeat is sent, e.g. interval = \"30s\"")
	case iv > 0 && iv < MinPingInterval:
		c.bad(join(hb, "interval"), "%v is too short: use %v or more", iv, MinPingInterval)
	}
	if msg := templateProblem(s.Heartbeat.Send, clientVars); msg != "" {
		c.bad(join(hb, "send"), "%s", msg)
	}
}

// reply checks one reply rule at path.
func (c *checker) reply(path []string, r protocol.Reply) {
	key := func(name string) []string { return join(path, name) }
	matchers := 0
	for _, m := range []string{r.Equals, r.Contains, r.Regex} {
		if m != "" {
			matchers++
		}
	}
	switch {
	case matchers == 0:
		c.bad(path, `matches nothing: a rule matches a message by equals = "...", contains = "..." or regex = "..."`)
	case matchers > 1:
		c.bad(path, "has more than one of equals, contains and regex: a rule matches one way; split it into two rules")
	}
	if r.Regex != "" {
		c.regex(key("regex"), r.Regex)
	}
	if !slices.Contains(protocol.ThenValues(), r.Then) {
		c.bad(key("then"), `%q is not a reaction: use "stop" (the server ended the session), "reconnect" (it asked the client to come back after its reconnect delay), "reconnect_now", or leave it out to go on`, r.Then)
	}
	if r.Then == "" && r.Send == "" {
		c.bad(path, `does nothing with the messages it matches: give it a reply (send = "...") or a reaction (then = "stop", "reconnect" or "reconnect_now")`)
	}
	if r.Then != "" && r.Name == "" {
		c.badAt(key("name"), path, `is missing: a rule that ends the session names the reason it is counted under in summary.json, e.g. name = "server disconnect"`)
	}
	if msg := templateProblem(r.Send, clientVars); msg != "" {
		c.bad(key("send"), "%s", msg)
	}
}

// regex checks a regular expression at path.
func (c *checker) regex(path []string, re string) {
	if _, err := compileRegex(re); err != nil {
		c.bad(path, "is not a regular expression (Go RE2 syntax): %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
}

// oeMessage is a Build error's message, without the option's name when the
// error is reported at the option's key.
func oeMessage(err error) string {
	var oe *protocol.OptionError
	if errors.As(err, &oe) {
		return oe.Msg
	}
	return err.Error()
}

func compileRegex(re string) (*regexp.Regexp, error) { return regexp.Compile(re) }
