package profile

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"
)

// Session script and ping limits.
const (
	// DefaultScriptTimeout is how long a script step waits for its expected
	// message when it does not say.
	DefaultScriptTimeout = 10 * time.Second
	// MaxSendFileBytes bounds a script's send_file, which every client sends
	// on every connection.
	MaxSendFileBytes = 1 << 20
	// MinPingInterval keeps a typo ("1ms" for "1m") from turning pings into
	// a flood.
	MinPingInterval = 10 * time.Millisecond
)

// scriptDefaults gives each [[fleet.session.script]] step that waits for a
// message and has no timeout DefaultScriptTimeout, and makes a relative
// send_file that the file gave relative to the profile's directory (and
// absolute, so the profile.toml of a run still finds it); one given with
// --set stays relative to the working directory.
func (d *decoder) scriptDefaults(p *Profile) {
	for i := range p.Fleet.Session.Script {
		s := &p.Fleet.Session.Script[i]
		key := []string{"fleet", "session", "script", strconv.Itoa(i)}
		if (s.Expect != "" || s.ExpectRegex != "") && !d.given(join(key, "timeout")...) {
			s.Timeout = Dur(DefaultScriptTimeout)
		}
		src, ok := d.seen[keyString(join(key, "send_file"))]
		if s.SendFile == "" || !ok || src.set || filepath.IsAbs(s.SendFile) || d.file == "" || d.file == BuiltinPath {
			continue
		}
		f := filepath.Join(filepath.Dir(d.file), s.SendFile)
		if abs, err := filepath.Abs(f); err == nil {
			f = abs
		}
		s.SendFile = f
	}
}

// session checks fleet.ping_interval and fleet.pong_timeout, and what a
// connected client sends and waits for: fleet.session.message, echo and the script.
func (c *checker) session() {
	f := c.p.Fleet
	if pi := f.PingInterval.D(); pi < 0 {
		c.notNegative(f.PingInterval, "fleet", "ping_interval")
	} else if pi > 0 && pi < MinPingInterval {
		c.bad([]string{"fleet", "ping_interval"}, `%v is too short: use 0s for no pings, or %v or more, e.g. "30s"`, pi, MinPingInterval)
	}
	switch pt := f.PongTimeout.D(); {
	case pt < 0:
		c.notNegative(f.PongTimeout, "fleet", "pong_timeout")
	case pt > 0 && f.PingInterval.D() == 0:
		c.bad([]string{"fleet", "pong_timeout"}, "%v waits for the pong of a ping, but fleet.ping_interval%s is 0s: the clients never ping; set ping_interval, or remove pong_timeout",
			pt, c.dflt("fleet", "ping_interval"))
	}
	s := f.Session
	msgPath := []string{"fleet", "session", "message"}
	if s.Message != "" {
		switch {
		case len(s.Message) > MaxPayloadBytes:
			c.bad(msgPath, "is %d bytes long: a message is at most %d bytes", len(s.Message), MaxPayloadBytes)
		case s.SendInterval.D() == 0:
			c.bad(msgPath, "is sent every fleet.session.send_interval, which is 0s: set send_interval, or remove message")
		}
		if msg := templateProblem(s.Message, clientVars); msg != "" {
			c.bad(msgPath, "%s", msg)
		}
	}
	for i, st := range s.Script {
		c.scriptStep(i, st)
	}
}

// scriptStep checks one [[fleet.session.script]] step.
func (c *checker) scriptStep(i int, s ScriptStep) {
	step := []string{"fleet", "session", "script", strconv.Itoa(i)}
	key := func(name string) []string { return join(step, name) }
	sends := s.Send != "" || s.SendFile != ""
	waits := s.Expect != "" || s.ExpectRegex != ""
	if !sends && !waits {
		c.bad(step, `does nothing: a step sends a message (send = "..." or send_file = "..."), waits for one (expect = "..." or expect_regex = "..."), or both`)
	}
	if s.Send != "" && s.SendFile != "" {
		c.bad(key("send_file"), "and send are both set: a step sends one message, text (send) or binary (send_file); split it into two steps")
	}
	if s.Expect != "" && s.ExpectRegex != "" {
		c.bad(key("expect_regex"), "and expect are both set: a step waits for one message, by a substring (expect) or a regular expression (expect_regex); keep one")
	}
	if msg := templateProblem(s.Send, clientVars); msg != "" {
		c.bad(key("send"), "%s", msg)
	}
	if msg := templateProblem(s.Expect, clientVars); msg != "" {
		c.bad(key("expect"), "%s", msg)
	}
	if s.ExpectRegex != "" {
		c.regex(key("expect_regex"), s.ExpectRegex)
	}
	if s.SendFile != "" {
		c.sendFile(key("send_file"), s.SendFile)
	}
	if s.Reject != "" && s.RejectRegex != "" {
		c.bad(key("reject_regex"), "and reject are both set: a step names its refusal by a substring (reject) or a regular expression (reject_regex); keep one")
	}
	if s.RejectRegex != "" {
		c.regex(key("reject_regex"), s.RejectRegex)
	}
	if (s.Reject != "" || s.RejectRegex != "") && !waits {
		c.bad(key("reject"), "does not apply: a step's refusal ends its wait for expect or expect_regex, and this step waits for nothing; add what it waits for, or remove it")
	}
	switch t := s.Timeout.D(); {
	case waits && t <= 0:
		c.bad(key("timeout"), `%v is too short: use how long the step waits for its message, above 0, e.g. "10s"`, t)
	case !waits && t != 0:
		c.bad(key("timeout"), "does not apply: a step's timeout bounds the wait for expect or expect_regex, and this step waits for nothing; remove it")
	}
}

// sendFile checks that a script's send_file can be read and is not too large.
func (c *checker) sendFile(path []string, file string) {
	data, err := c.env.readFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		c.bad(path, "cannot read %s: %v", file, err)
		return
	}
	if len(data) > MaxSendFileBytes {
		c.bad(path, "%s is %d bytes: a script sends at most %d bytes (1 MiB) from a file", file, len(data), MaxSendFileBytes)
	}
}
