package protocol

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/optstruct"
	"github.com/wsstorm/wsstorm/internal/tmpl"
)

// TestTable: every preset has a unique name, says what it is and where its
// facts come from, and builds with its defaults; its options all have a
// doc.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range Names() {
		p, ok := Lookup(name)
		if !ok || seen[name] {
			t.Fatalf("%s: not found, or twice in the table", name)
		}
		seen[name] = true
		if p.About() == "" || p.Source() == "" {
			t.Errorf("%s: no About or Source", name)
		}
		opts := p.Options()
		for _, k := range optstruct.Keys(opts) {
			if optstruct.Doc(opts, k) == "" {
				t.Errorf("%s: option %s has no doc", name, k)
			}
		}
		spec, err := p.Build(opts)
		if err != nil {
			t.Errorf("%s: defaults do not build: %v", name, err)
			continue
		}
		checkSpec(t, name, spec)
	}
	if _, ok := Lookup("socket.io-client"); ok {
		t.Error("Lookup found a preset that is not in the table")
	}
}

// checkSpec checks that a spec's regular expressions compile, its rules
// match one way each and its reactions are known.
func checkSpec(t *testing.T, name string, s Spec) {
	t.Helper()
	for i, st := range s.Script {
		for _, re := range []string{st.ExpectRegex, st.RejectRegex} {
			if _, err := regexp.Compile(re); err != nil {
				t.Errorf("%s: script step %d: %v", name, i, err)
			}
		}
	}
	for _, r := range s.Replies {
		n := 0
		for _, m := range []string{r.Equals, r.Contains, r.Regex} {
			if m != "" {
				n++
			}
		}
		if n != 1 || !slices.Contains(ThenValues(), r.Then) || r.Name == "" {
			t.Errorf("%s: rule %+v: want one matcher, a known reaction and a name", name, r)
		}
		if _, err := regexp.Compile(r.Regex); err != nil {
			t.Errorf("%s: rule %s: %v", name, r.Name, err)
		}
	}
	for _, c := range s.Codes {
		if c.From > c.To || c.From < 1000 || c.To > 4999 || (c.Then != Stop && c.Then != Reconnect) || c.Then == Stop && c.Reason == "" {
			t.Errorf("%s: close codes %+v", name, c)
		}
	}
}

// TestSocketIOPackets: the packets the socket.io preset sends and waits
// for, as socket.io-parser 4 encodes them, for the root namespace and
// another, with an auth object.
func TestSocketIOPackets(t *testing.T) {
	p, _ := Lookup("socket.io")
	for _, tc := range []struct {
		ns, auth                 string
		connect, ack, err, disc  string
		notAck, notDisc, message string
		frame                    string
	}{
		{ns: "/", connect: "40", ack: `40{"sid":"a"}`, err: `44{"message":"no"}`, disc: "41",
			notAck: `40/chat,{"sid":"a"}`, notDisc: "41/chat,", frame: `42["message","hi {{client}}"]`},
		{ns: "/chat", auth: `{"token":"t"}`, connect: `40/chat,{"token":"t"}`, ack: `40/chat,{"sid":"a"}`,
			err: `44/chat,{"message":"no"}`, disc: "41/chat,", notAck: `40{"sid":"a"}`, notDisc: "41", frame: `42/chat,["message","hi {{client}}"]`},
	} {
		o := p.Options().(*SocketIOOptions)
		o.Namespace, o.Auth = tc.ns, tc.auth
		s, err := p.Build(o)
		if err != nil {
			t.Fatal(err)
		}
		if s.Path != "/socket.io/" || len(s.Query) != 2 || s.Query[0] != (Param{"EIO", "4"}) || s.Query[1] != (Param{"transport", "websocket"}) {
			t.Errorf("%s: URL parts %q %v", tc.ns, s.Path, s.Query)
		}
		open := regexp.MustCompile(s.Script[0].ExpectRegex)
		if !open.MatchString(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`) || open.MatchString(`40{"sid":"x"}`) {
			t.Errorf("%s: open packet regex %q", tc.ns, s.Script[0].ExpectRegex)
		}
		st := s.Script[1]
		if st.Send != tc.connect {
			t.Errorf("%s: connect packet %q, want %q", tc.ns, st.Send, tc.connect)
		}
		ack, rej := regexp.MustCompile(st.ExpectRegex), regexp.MustCompile(st.RejectRegex)
		if !ack.MatchString(tc.ack) || ack.MatchString(tc.notAck) || !rej.MatchString(tc.err) || rej.MatchString(tc.ack) {
			t.Errorf("%s: ack %q / reject %q", tc.ns, st.ExpectRegex, st.RejectRegex)
		}
		disc := regexp.MustCompile(s.Replies[1].Regex)
		if !disc.MatchString(tc.disc) || disc.MatchString(tc.notDisc) || disc.MatchString(`42["41"]`) || s.Replies[1].Then != Stop {
			t.Errorf("%s: disconnect rule %+v", tc.ns, s.Replies[1])
		}
		if s.Replies[0].Equals != "2" || s.Replies[0].Send != "3" {
			t.Errorf("%s: ping rule %+v", tc.ns, s.Replies[0])
		}
		if got := s.Frame("hi {{client}}"); got != tc.frame {
			t.Errorf("%s: framed message %q, want %q", tc.ns, got, tc.frame)
		}
	}
}

// TestSocketIOBadOptions: each bad option is an OptionError of its key.
func TestSocketIOBadOptions(t *testing.T) {
	p, _ := Lookup("socket.io")
	for key, set := range map[string]func(*SocketIOOptions){
		"namespace": func(o *SocketIOOptions) { o.Namespace = "chat" },
		"path":      func(o *SocketIOOptions) { o.Path = "socket.io" },
		"auth":      func(o *SocketIOOptions) { o.Auth = "token=1" },
		"event":     func(o *SocketIOOptions) { o.Event = "" },
	} {
		o := p.Options().(*SocketIOOptions)
		set(o)
		_, err := p.Build(o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Key != key || strings.TrimSpace(oe.Msg) == "" {
			t.Errorf("%s: error %v, want an OptionError of %s", key, err, key)
		}
	}
}

// TestJSONString: a string is quoted as JSON.stringify quotes it.
func TestJSONString(t *testing.T) {
	for in, want := range map[string]string{`a<b>&"c"`: `"a<b>&\"c\""`, "é\n": `"é\n"`, "{{client}}": `"{{client}}"`} {
		if got := jsonString(in); got != want {
			t.Errorf("jsonString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestJSONStringSeparators: U+2028 and U+2029 stay as they are, as
// JSON.stringify leaves them (Go's encoder escapes them).
func TestJSONStringSeparators(t *testing.T) {
	if got, want := jsonString("a\u2028b\u2029"), "\"a\u2028b\u2029\""; got != want {
		t.Errorf("jsonString = %q, want %q", got, want)
	}
}

// TestTemplateRulesAreTmpls: checkTemplate refuses exactly what package
// tmpl's parser refuses for half a variable, on texts of every kind.
func TestTemplateRulesAreTmpls(t *testing.T) {
	vars := []string{"client", "session", "key", "uuid", "seq"}
	for _, s := range []string{
		"", "plain", "{{client}}", "{{ seq }}", `{"a":{"b":"{{key}}"}}`, "{{", "}}", "a}}b", "{{client}",
		"{client}}", "{{ client", "x{ seq }}", "{{a{{client}}", "{{{client}}}", `[{{"y":1}}]`, `{"q":"{{uuid}}}"}`,
	} {
		_, err := tmpl.Parse(s, vars)
		var p *tmpl.Problem
		half := errors.As(err, &p) && p.Ref == ""
		if got := checkTemplate(s) != nil; got != half {
			t.Errorf("%q: checkTemplate refuses %v, tmpl finds half a variable %v", s, got, half)
		}
	}
}
