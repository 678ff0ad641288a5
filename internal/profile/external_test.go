package profile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// testEnv is an environment with fixed variables and the real file system.
func testEnv(vars map[string]string) environment {
	return environment{
		lookupEnv: func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
		readFile:  readRegularFile,
	}
}

const token = "tok-3f9a1c77e2"

var vars = map[string]string{"WS_TOKEN": token, "WS_HOST": "ws.example.test", "EMPTY": "", "WS_PASS": "pa:ss@word"}

// external is a valid external target for cases to add to.
const external = "[target]\nmode = \"external\"\nurl = \"wss://ws.example.test/socket\"\n"

func TestExternalTarget(t *testing.T) {
	src := `[target]
mode = "external"
url = "wss://${WS_HOST}/socket?token=${WS_TOKEN}&literal=$$1"
headers = { Authorization = "Bearer ${WS_TOKEN}", X-Empty = "${EMPTY}", Sec-WebSocket-Protocol = "chat" }
[fleet]
read_limit = 125
write_timeout = "250ms"
`
	p, err := parse([]byte(src), "ext.toml", nil, testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	if want := "wss://ws.example.test/socket?token=" + token + "&literal=$1"; p.Target.URL != want {
		t.Errorf("url = %q, want %q", p.Target.URL, want)
	}
	wantHeaders := map[string]string{"Authorization": "Bearer " + token, "X-Empty": "", "Sec-WebSocket-Protocol": "chat"}
	if !reflect.DeepEqual(p.Target.Headers, wantHeaders) {
		t.Errorf("headers = %q, want %q", p.Target.Headers, wantHeaders)
	}
	if want := []string{token, "ws.example.test"}; !reflect.DeepEqual(p.Target.Secrets, want) {
		t.Errorf("secrets = %q, want %q", p.Target.Secrets, want)
	}
	if p.Fleet.ReadLimit != 125 || p.Fleet.WriteTimeout.D() != 250*time.Millisecond {
		t.Errorf("read_limit %d, write_timeout %v", p.Fleet.ReadLimit, p.Fleet.WriteTimeout)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate on the parsed profile: %v", err)
	}
}

// Parse reads ${NAME} from the process's environment.
func TestParseReadsEnvironment(t *testing.T) {
	t.Setenv("WSSTORM_TEST_TOKEN", token)
	src := external + "headers = { Authorization = \"Bearer ${WSSTORM_TEST_TOKEN}\" }\n"
	p, err := Parse([]byte(src), "ext.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.Headers["Authorization"] != "Bearer "+token {
		t.Errorf("Authorization = %q", p.Target.Headers["Authorization"])
	}
}

func TestExpandVars(t *testing.T) {
	tests := []struct {
		in, out  string
		used     []string
		problems []string
	}{
		{"plain", "plain", nil, nil},
		{"${WS_TOKEN}", token, []string{token}, nil},
		{"a${EMPTY}b", "ab", []string{""}, nil},
		{"$${WS_TOKEN}", "${WS_TOKEN}", nil, nil},
		{"$$$$", "$$", nil, nil},
		{"${NOPE}", "", nil, []string{"${NOPE} is not set: export NOPE before the run"}},
		{"$WS_TOKEN", "$WS_TOKEN", nil, []string{"$WS_TOKEN is not a reference: write ${WS_TOKEN} to take WS_TOKEN from the environment, or $$ for a literal $"}},
		{"a $ b", "a $ b", nil, []string{"a lone $ must be written $$; ${NAME} takes a value from the environment"}},
		{"x${WS_TOKEN", "x", nil, []string{`"${WS_TOKEN" has no closing }: write ${NAME} to take a value from the environment, or $$ for a literal $`}},
		{"${1X}", "", nil, []string{`"${1X}" is not a variable reference: a name has letters, digits and _, and does not start with a digit; write $$ for a literal $`}},
		{"${}", "", nil, []string{`"${}" is not a variable reference: a name has letters, digits and _, and does not start with a digit; write $$ for a literal $`}},
		{"${A-B}", "", nil, []string{`"${A-B}" is not a variable reference: a name has letters, digits and _, and does not start with a digit; write $$ for a literal $`}},
		{"${NOPE}${NADA}", "", nil, []string{"${NOPE} is not set: export NOPE before the run", "${NADA} is not set: export NADA before the run"}},
	}
	env := testEnv(vars)
	for _, tt := range tests {
		out, used, problems := expandVars(tt.in, env.lookupEnv)
		if out != tt.out && tt.problems == nil || !slices.Equal(used, tt.used) || !slices.Equal(problems, tt.problems) {
			t.Errorf("expandVars(%q) = %q, %q, %q; want %q, %q, %q", tt.in, out, used, problems, tt.out, tt.used, tt.problems)
		}
	}
}

func TestExternalErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every error, in order
	}{
		{"missing variable in a header",
			external + "headers = { Authorization = \"Bearer ${NOPE}\" }",
			[]string{`e.toml:4: target.headers.Authorization: ${NOPE} is not set: export NOPE before the run`}},
		{"every missing variable",
			"[target]\nmode = \"external\"\nurl = \"wss://${NOPE}/${NADA}\"",
			[]string{`e.toml:3: target.url: ${NOPE} is not set: export NOPE before the run`,
				`e.toml:3: target.url: ${NADA} is not set: export NADA before the run`}},
		{"no url", "[target]\nmode = \"external\"",
			[]string{`e.toml:1: target.url: missing: an external target needs the WebSocket URL to connect to, e.g. url = "wss://ws.example.test/socket"`}},
		{"empty url", "[target]\nmode = \"external\"\nurl = \"\"",
			[]string{`e.toml:3: target.url: is empty: an external target needs the WebSocket URL to connect to, e.g. url = "wss://ws.example.test/socket"`}},
		{"http url", "[target]\nmode = \"external\"\nurl = \"https://ws.example.test/\"",
			[]string{`e.toml:3: target.url: the URL is an https:// URL: write wss:// for a WebSocket URL`}},
		{"other scheme", "[target]\nmode = \"external\"\nurl = \"ftp://ws.example.test/\"",
			[]string{`e.toml:3: target.url: the URL has the scheme "ftp": write ws:// or wss://, e.g. url = "wss://ws.example.test/socket"`}},
		{"no scheme", "[target]\nmode = \"external\"\nurl = \"ws.example.test/socket\"",
			[]string{`e.toml:3: target.url: the URL has no scheme: write ws:// or wss:// before the host, e.g. url = "wss://ws.example.test/socket"`}},
		{"no host", "[target]\nmode = \"external\"\nurl = \"wss:///socket\"",
			[]string{`e.toml:3: target.url: the URL has no host: write the server's host after wss://, e.g. url = "wss://ws.example.test/socket"`}},
		{"unparsable", "[target]\nmode = \"external\"\nurl = \"ws://h:port/\"",
			[]string{`e.toml:3: target.url: the URL is not a URL: invalid port ":port" after host; e.g. url = "wss://ws.example.test/socket"`}},
		{"password hidden", "[target]\nmode = \"external\"\nurl = \"http://user:hunter2@ws.example.test/\"",
			[]string{`e.toml:3: target.url: the URL is an http:// URL: write ws:// for a WebSocket URL`}},
		{"expanded url not shown", "[target]\nmode = \"external\"\nurl = \"${WS_TOKEN}\"",
			[]string{`e.toml:3: target.url: the URL (after ${NAME} expansion) has no scheme: write ws:// or wss:// before the host, e.g. url = "wss://ws.example.test/socket"`}},
		{"embedded keys", external + "nodes = 2\nlisten = \"127.0.0.1:0\"\n[target.capacity]\nmax_conns = 5",
			[]string{`e.toml:4: target.nodes: is the embedded target's count of nodes: an external target's nodes are [[target.nodes]] tables, each with its name and restart hook`,
				`e.toml:5: target.listen: applies only to the embedded target: remove it; an external target is whatever target.url reaches`,
				`e.toml:6: target.capacity: applies only to the embedded target: remove it; an external target is whatever target.url reaches`}},
		{"chaos", external + chaosRestart,
			[]string{`e.toml:4: chaos: an external target's nodes need restart hooks for [[chaos]] steps: add a [[target.nodes]] table per node with its command or http request, or watch restarts you run yourself with [detect] enabled = true and no steps`}},
		{"reserved headers", external + "headers = { upgrade = \"x\", Connection = \"x\", Sec-WebSocket-Key = \"x\", sec-websocket-version = \"13\", Sec-WebSocket-Extensions = \"x\" }",
			[]string{
				`e.toml:4: target.headers.Connection: wsstorm's WebSocket client sets Connection itself in the handshake: remove it`,
				`e.toml:4: target.headers.Sec-WebSocket-Extensions: wsstorm's WebSocket client sets Sec-WebSocket-Extensions itself in the handshake: remove it`,
				`e.toml:4: target.headers.Sec-WebSocket-Key: wsstorm's WebSocket client sets Sec-WebSocket-Key itself in the handshake: remove it`,
				`e.toml:4: target.headers.sec-websocket-version: wsstorm's WebSocket client sets sec-websocket-version itself in the handshake: remove it`,
				`e.toml:4: target.headers.upgrade: wsstorm's WebSocket client sets upgrade itself in the handshake: remove it`,
			}},
		{"header name", external + "headers = { \"X Token\" = \"x\" }",
			[]string{`e.toml:4: target.headers."X Token": "X Token" is not a header name: use letters, digits and -, e.g. "X-Api-Key"`}},
		{"header twice", external + "[target.headers]\nX-Id = \"1\"\nx-id = \"2\"",
			[]string{`e.toml:6: target.headers.x-id: is the same header as target.headers.X-Id (header names ignore case): keep one`}},
		{"header value", external + "headers = { X-Id = \"a\\nb\" }",
			[]string{`e.toml:4: target.headers.X-Id: the value has a control character (a line break, NUL, ...), which a header value cannot carry`}},
		{"header type", external + "headers = { X-Id = 5 }",
			[]string{`e.toml:4: target.headers.X-Id: expected a string, found the integer 5: put it in quotes`}},
		{"tls with ws://", "[target]\nmode = \"external\"\nurl = \"ws://h/\"\n[target.tls]\nserver_name = \"h\"",
			[]string{`e.toml:4: target.tls: applies only to a wss:// URL, and target.url is ws://: use wss://, or remove the TLS settings`}},
		{"ca_file missing", external + "tls = { ca_file = \"no-such-ca.pem\" }",
			[]string{`e.toml:4: target.tls.ca_file: cannot read dir/no-such-ca.pem (a relative ca_file is read from the profile's directory): no such file or directory`}},
		{"ca_file absolute", external + "tls = { ca_file = \"/no/such/ca.pem\" }",
			[]string{`e.toml:4: target.tls.ca_file: cannot read /no/such/ca.pem: no such file or directory`}},
		{"ca_file a directory", external + "tls = { ca_file = \"/\" }",
			[]string{`e.toml:4: target.tls.ca_file: cannot read /: it is a directory`}},
		{"ca_file a device", external + "tls = { ca_file = \"/dev/null\" }",
			[]string{`e.toml:4: target.tls.ca_file: cannot read /dev/null: it is not a regular file`}},
		{"server_name a url", external + "tls = { server_name = \"https://h\" }",
			[]string{`e.toml:4: target.tls.server_name: "https://h" is not a host name: write the name the server's certificate carries, e.g. "ws.example.test"`}},
		{"external keys in embedded", "[target]\nurl = \"wss://h/\"\nheaders = { A = \"b\" }\n[target.tls]\ninsecure_skip_verify = false",
			[]string{`e.toml:2: target.url: applies only to an external target: remove it, or set target.mode = "external"`,
				`e.toml:3: target.headers: applies only to an external target: remove it, or set target.mode = "external"`,
				`e.toml:4: target.tls: applies only to an external target: remove it, or set target.mode = "external"`}},
		{"read_limit too small", "[fleet]\nread_limit = 124",
			[]string{`e.toml:2: fleet.read_limit: 124 is out of range: use 125 (the largest control frame) to 1073741824 bytes (1 GiB)`}},
		{"read_limit too large", "[fleet]\nread_limit = 1073741825",
			[]string{`e.toml:2: fleet.read_limit: 1073741825 is out of range: use 125 (the largest control frame) to 1073741824 bytes (1 GiB)`}},
		{"read_limit below the echo", "[fleet]\nread_limit = 1000\n[fleet.session]\npayload_bytes = 4096",
			[]string{`e.toml:2: fleet.read_limit: 1000 is below fleet.session.payload_bytes 4096: the target's echo of every message would be too large to read; raise read_limit`}},
		{"write_timeout zero", "[fleet]\nwrite_timeout = \"0s\"",
			[]string{`e.toml:2: fleet.write_timeout: 0s is too short: use a timeout above 0, e.g. "5s"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.src), "dir/e.toml", nil, testEnv(vars))
			got := errorLines(t, err)
			abs, _ := filepath.Abs("dir")
			for i := range got {
				// Relative files resolve to absolute paths under the profile's directory.
				got[i] = strings.ReplaceAll(strings.TrimPrefix(got[i], "dir/"), abs+"/", "dir/")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestExternalWithSet(t *testing.T) {
	src := external + "headers = { X-Id = \"1\" }\n"
	p, err := parse([]byte(src), "e.toml", []string{"target.headers.Authorization=Bearer typed-on-the-command-line", "fleet.clients=10"}, testEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Target.Secrets, "Bearer typed-on-the-command-line") {
		t.Errorf("secrets %q lack the header value given with --set", p.Target.Secrets)
	}
	want := []string{"target.headers.Authorization=[redacted]", "fleet.clients=10"}
	if got := p.RedactedOverrides(); !reflect.DeepEqual(got, want) {
		t.Errorf("RedactedOverrides() = %q, want %q", got, want)
	}
	// The built-in default's chaos steps, with the mode from the command line.
	_, err = parse(profilesDefault(t), BuiltinPath, []string{"target.mode=external", "target.url=wss://h/"}, testEnv(vars))
	got := strings.Join(errorLines(t, err), "\n")
	if !strings.Contains(got, "(on the command line: --set chaos=[])") {
		t.Errorf("errors lack the --set hint:\n%s", got)
	}
}

func profilesDefault(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(shipped, "default.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeCA writes a self-signed CA certificate in PEM to dir/name.
func writeCA(t *testing.T, dir, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsstorm test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	ca := writeCA(t, dir, "ca.pem")
	if err := os.WriteFile(filepath.Join(dir, "not-pem.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	profilePath := filepath.Join(dir, "p.toml")

	// A relative ca_file in the file is read from the profile's directory.
	p, err := parse([]byte(external+"tls = { ca_file = \"ca.pem\", server_name = \"ws.example.test\" }\n"), profilePath, nil, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.TLS.CAFile != ca {
		t.Errorf("ca_file = %q, want %q", p.Target.TLS.CAFile, ca)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// One given with --set is read from the working directory.
	p, err = parse([]byte(external), profilePath, []string{"target.tls.ca_file=" + ca}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.TLS.CAFile != ca {
		t.Errorf("ca_file = %q, want %q", p.Target.TLS.CAFile, ca)
	}
	_, err = parse([]byte(external), profilePath, []string{"target.tls.ca_file=ca.pem"}, testEnv(nil))
	if got := errorLines(t, err); len(got) != 1 || got[0] != "--set target.tls.ca_file: cannot read ca.pem: no such file or directory" {
		t.Errorf("errors %q", got)
	}

	_, err = parse([]byte(external+"tls = { ca_file = \"not-pem.txt\", insecure_skip_verify = true }\n"), profilePath, nil, testEnv(nil))
	want := []string{
		profilePath + ":4: target.tls.ca_file: " + filepath.Join(dir, "not-pem.txt") + " has no PEM certificate: name a file of CA certificates in PEM (-----BEGIN CERTIFICATE-----)",
		profilePath + ":4: target.tls.insecure_skip_verify: true turns certificate verification off, so ca_file would go unused: remove one of them",
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// No message shows what a variable holds, even when the value is what is
// wrong.
func TestErrorsNeverShowSecrets(t *testing.T) {
	env := testEnv(map[string]string{
		"WS_TOKEN": token,
		"WS_BAD":   "line\r\nX-Injected: " + token,
		"WS_URL":   "https://user:" + token + "@h/",
		"WS_PORT":  token,
	})
	srcs := []string{
		external + "headers = { Authorization = \"${WS_BAD}\" }",
		"[target]\nmode = \"external\"\nurl = \"${WS_URL}\"",
		"[target]\nmode = \"external\"\nurl = \"wss://h:${WS_PORT}/\"",
		"[target]\nmode = \"external\"\nurl = \"wss://h/${WS_TOKEN}\"\n[fleet]\nclients = 0\nname = \"${WS_TOKEN}\"",
	}
	for _, src := range srcs {
		_, err := parse([]byte(src), "s.toml", []string{"name=" + token}, env)
		if err == nil {
			t.Fatalf("no error for %q", src)
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "Injected") {
			t.Errorf("an error shows a secret:\n%v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	p := &Profile{Target: Target{
		URL:     "wss://user:p%40ss@ws.example.test/socket",
		Secrets: []string{"tok3n", "tok3n-longer", ""},
	}}
	tests := []struct{ in, want string }{
		{"Authorization: Bearer tok3n-longer", "Authorization: Bearer [redacted]"},
		{"tok3n and tok3n", "[redacted] and [redacted]"},
		{"dial wss://user:p%40ss@ws.example.test/socket", "dial wss://user:[redacted]@ws.example.test/socket"},
		{"password p@ss", "password [redacted]"},
		{"nothing secret", "nothing secret"},
	}
	for _, tt := range tests {
		if got := p.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var none *Profile
	if got := none.Redact("tok"); got != "tok" {
		t.Errorf("nil profile Redact = %q", got)
	}
	if got := (&Profile{}).Redact("x"); got != "x" {
		t.Errorf("no secrets: Redact = %q", got)
	}
}

func TestRedactedOverrides(t *testing.T) {
	p := &Profile{
		Target: Target{Secrets: []string{token}},
		Overrides: []string{
			"fleet.clients=10",
			"target.url=wss://u:pw@h/",
			"target.headers.Authorization=Bearer x",
			" target.headers = {A=\"b\"}",
			`target={mode="external"}`,
			"target.mode=external",
			"name=" + token,
			"malformed",
		},
	}
	want := []string{
		"fleet.clients=10",
		"target.url=[redacted]",
		"target.headers.Authorization=[redacted]",
		" target.headers =[redacted]",
		"target=[redacted]",
		"target.mode=external",
		"name=[redacted]",
		"malformed",
	}
	if got := p.RedactedOverrides(); !reflect.DeepEqual(got, want) {
		t.Errorf("RedactedOverrides:\n%q\nwant:\n%q", got, want)
	}
	if got := (&Profile{}).RedactedOverrides(); got != nil {
		t.Errorf("no overrides: %q", got)
	}
}

func TestDefaultsHeadersFresh(t *testing.T) {
	a := Defaults()
	if a.Target.Headers == nil || len(a.Target.Headers) != 0 {
		t.Fatalf("headers = %v, want an empty map", a.Target.Headers)
	}
	a.Target.Headers["X"] = "y"
	if b := Defaults(); len(b.Target.Headers) != 0 {
		t.Error("Defaults shares its headers map between calls")
	}
	if a.Fleet.ReadLimit != 1<<20 || a.Fleet.WriteTimeout.D() != 5*time.Second {
		t.Errorf("read_limit %d, write_timeout %v", a.Fleet.ReadLimit, a.Fleet.WriteTimeout)
	}
}

func TestTextProblems(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty", "", "t.toml: the profile is empty: the file has nothing in it; write the keys that differ from the defaults (see profiles/default.toml), or run `wsstorm run` with no profile for the built-in default"},
		{"blanks", " \n\t\r\n", "t.toml: the profile is empty: the file has only blanks in it;"},
		{"a BOM alone", "\ufeff", "t.toml: the profile is empty: the file has only blanks in it;"},
		{"comments", "# name = \"x\"\n", "t.toml: the profile is empty: it has no keys, only comments;"},
		{"NUL", "name = \"a\"\n\x00\x01", "t.toml:2: has a NUL byte: this is a binary file, not a TOML profile"},
		{"UTF-16", "\xff\xfen\x00a\x00", "t.toml:1: the profile is UTF-16 text: save it as UTF-8, which TOML requires"},
		{"invalid UTF-8", "# caf\xe9\nname = \"x\"", "t.toml:1: invalid UTF-8 (byte 0xe9): a profile is UTF-8 text; save it as UTF-8, or check that this is the right file"},
		{"BOM in the middle", "seed = 1\n\ufeffname = \"x\"", "t.toml:2: invalid TOML:"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.data), "t.toml", nil)
		if got := errorLines(t, err); len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("%s: errors %q, want one starting with %q", tt.name, got, tt.want)
		}
	}
}

// A UTF-8 byte order mark, as some Windows editors write, is allowed, and
// lines still count from the first.
func TestBOM(t *testing.T) {
	p, err := Parse([]byte("\ufeffname = \"bom\"\n[fleet]\nclients = 10\n"), "b.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "bom" || p.Fleet.Clients != 10 {
		t.Errorf("name %q clients %d", p.Name, p.Fleet.Clients)
	}
	_, err = Parse([]byte("\ufeffnmae = \"bom\"\n"), "b.toml", nil)
	if got := errorLines(t, err); len(got) != 1 || got[0] != "b.toml:1: nmae: unknown key (did you mean name?)" {
		t.Errorf("errors %q", got)
	}
}

func TestLoadNotAProfile(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir, nil)
	want := dir + ": cannot read the profile: it is a directory; name a profile file in it, e.g. " + filepath.Join(dir, "default.toml")
	if got := errorLines(t, err); len(got) != 1 || got[0] != want {
		t.Errorf("errors %q, want %q", got, want)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, make([]byte, MaxProfileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big, nil)
	if got := errorLines(t, err); len(got) != 1 || !strings.Contains(got[0], "larger than 1 MiB") {
		t.Errorf("errors %q", got)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err = Load("/dev/zero", nil)
		if got := errorLines(t, err); len(got) != 1 || !strings.Contains(got[0], "larger than 1 MiB") {
			t.Errorf("/dev/zero: errors %q", got)
		}
	}
	unreadable := filepath.Join(dir, "unreadable.toml")
	if err := os.WriteFile(unreadable, []byte("seed = 1\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root, which reads a file of mode 000: the unreadable case cannot be checked")
	}
	_, err = Load(unreadable, nil)
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err = %v, want fs.ErrPermission", err)
	}
	if got := errorLines(t, err); len(got) != 1 || got[0] != unreadable+": cannot read the profile: permission denied" {
		t.Errorf("errors %q", got)
	}
}
