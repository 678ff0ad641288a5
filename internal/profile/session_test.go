package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSessionScript(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.bin"), []byte{0, 1, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	src := `[fleet]
ping_interval = "20s"
[fleet.session]
message = '{"op":"ping","id":{{seq}}}'
echo = false

[[fleet.session.script]]
send = '{"op":"subscribe","topic":"user-{{ client }}"}'
expect = '"op":"ack"'

[[fleet.session.script]]
send_file = "hello.bin"

[[fleet.session.script]]
expect_regex = '^\{"op":"ready"'
timeout = "2s"
`
	p, err := Parse([]byte(src), filepath.Join(dir, "s.toml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Fleet.Session
	if p.Fleet.PingInterval.D() != 20*time.Second || s.Echo || s.Message == "" || len(s.Script) != 3 {
		t.Fatalf("fleet %+v", p.Fleet)
	}
	if s.Script[0].Timeout.D() != DefaultScriptTimeout {
		t.Errorf("step 0 timeout = %v, want the default %v", s.Script[0].Timeout, DefaultScriptTimeout)
	}
	if s.Script[1].Timeout.D() != 0 {
		t.Errorf("step 1, which waits for nothing, has timeout %v", s.Script[1].Timeout)
	}
	if s.Script[2].Timeout.D() != 2*time.Second {
		t.Errorf("step 2 timeout = %v, want 2s", s.Script[2].Timeout)
	}
	if want := filepath.Join(dir, "hello.bin"); s.Script[1].SendFile != want || !filepath.IsAbs(s.Script[1].SendFile) {
		t.Errorf("send_file = %q, want %q (read from the profile's directory)", s.Script[1].SendFile, want)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate on the parsed profile: %v", err)
	}
}

func TestSessionErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, make([]byte, MaxSendFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	const script = "[[fleet.session.script]]\n"
	tests := []struct {
		name string
		src  string
		want []string // every error, in order
	}{
		{"negative ping interval", "[fleet]\nping_interval = \"-1s\"",
			[]string{"s.toml:2: fleet.ping_interval: -1s is negative: use 0s or more"}},
		{"ping flood", "[fleet]\nping_interval = \"1ms\"",
			[]string{`s.toml:2: fleet.ping_interval: 1ms is too short: use 0s for no pings, or 10ms or more, e.g. "30s"`}},
		{"unknown message variable", "[fleet.session]\nmessage = \"hi {{client_id}}\"",
			[]string{`s.toml:2: fleet.session.message: "{{client_id}}" is not a template variable here: use "{{client}}", "{{session}}", "{{key}}", "{{uuid}}" or "{{seq}}" (did you mean client?)`}},
		{"message never sent", "[fleet.session]\nsend_interval = \"0s\"\nmessage = \"hi\"",
			[]string{"s.toml:3: fleet.session.message: is sent every fleet.session.send_interval, which is 0s: set send_interval, or remove message"}},
		{"empty step", script + "timeout = \"1s\"\n",
			[]string{
				`s.toml:1: fleet.session.script.0: does nothing: a step sends a message (send = "..." or send_file = "..."), waits for one (expect = "..." or expect_regex = "..."), or both`,
				"s.toml:2: fleet.session.script.0.timeout: does not apply: a step's timeout bounds the wait for expect or expect_regex, and this step waits for nothing; remove it",
			}},
		{"send and send_file", script + "send = \"a\"\nsend_file = \"" + big + "\"\n",
			[]string{
				"s.toml:3: fleet.session.script.0.send_file: and send are both set: a step sends one message, text (send) or binary (send_file); split it into two steps",
				"s.toml:3: fleet.session.script.0.send_file: " + big + " is 1048577 bytes: a script sends at most 1048576 bytes (1 MiB) from a file",
			}},
		{"expect and expect_regex", script + "expect = \"a\"\nexpect_regex = \"b\"\n",
			[]string{"s.toml:3: fleet.session.script.0.expect_regex: and expect are both set: a step waits for one message, by a substring (expect) or a regular expression (expect_regex); keep one"}},
		{"bad regex", script + "expect_regex = \"ack(\"\n",
			[]string{"s.toml:2: fleet.session.script.0.expect_regex: is not a regular expression (Go RE2 syntax): missing closing ): `ack(`"}},
		{"zero timeout", script + "expect = \"ack\"\ntimeout = \"0s\"\n",
			[]string{`s.toml:3: fleet.session.script.0.timeout: 0s is too short: use how long the step waits for its message, above 0, e.g. "10s"`}},
		{"missing file", "\n" + script + "send_file = \"nope.bin\"\n",
			[]string{"s.toml:3: fleet.session.script.0.send_file: cannot read " + filepath.Join(dir, "nope.bin") + ": no such file or directory"}},
		{"template in send and expect", script + "send = \"{{node}}\"\nexpect = \"{{ sesion }}\"\n",
			[]string{
				`s.toml:2: fleet.session.script.0.send: "{{node}}" is not a template variable here: use "{{client}}", "{{session}}", "{{key}}", "{{uuid}}" or "{{seq}}"`,
				`s.toml:3: fleet.session.script.0.expect: "{{ sesion }}" is not a template variable here: use "{{client}}", "{{session}}", "{{key}}", "{{uuid}}" or "{{seq}}" (did you mean session?)`,
			}},
		{"second step", script + "send = \"a\"\n" + script + "expect = \"\"\n",
			[]string{`s.toml:3: fleet.session.script.1: does nothing`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), filepath.Join(dir, "s.toml"), nil)
			got := errorLines(t, err)
			for i := range got {
				got[i] = strings.TrimPrefix(got[i], dir+string(filepath.Separator))
			}
			ok := len(got) == len(tt.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.want[i])
			}
			if !ok {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A send_file given with --set is read from the working directory, as
// target.tls.ca_file is.
func TestSendFileFromSet(t *testing.T) {
	_, err := Parse([]byte("[[fleet.session.script]]\nsend = \"a\"\n"), "dir/s.toml", []string{"fleet.session.script.0.send_file=nope.bin"})
	got := errorLines(t, err)
	if len(got) != 2 || !strings.HasPrefix(got[1], "--set fleet.session.script.0.send_file: cannot read nope.bin: ") {
		t.Errorf("errors:\n%s", strings.Join(got, "\n"))
	}
}

// The script's steps take no defaults in code: a step that waits needs its
// timeout.
func TestValidateScriptInCode(t *testing.T) {
	p := Defaults()
	p.Fleet.Session.Script = []ScriptStep{{Send: "hi"}, {Expect: "ack"}}
	want := "fleet.session.script.1.timeout: 0s is too short: use how long the step waits for its message, above 0, e.g. \"10s\""
	if err := p.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate:\n%v\nwant:\n%s", err, want)
	}
	p.Fleet.Session.Script[1].Timeout = Dur(time.Second)
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
