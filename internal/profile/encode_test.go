package profile_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// comparable returns p without what profile.toml cannot carry: where the
// profile was read from, its digest, the overrides (applied already) and
// the secrets (redacted).
func comparableProfile(p *profile.Profile) profile.Profile {
	c := *p
	c.Path, c.SHA256, c.Overrides, c.Target.Secrets = "", "", nil, nil
	c.Warnings = nil // they name the file they were read from
	if len(c.Chaos) == 0 {
		c.Chaos = nil // --set chaos=[] leaves an empty list, a file without steps none
	}
	return c
}

// TestWriteTOMLRoundTrip checks that profile.toml is a profile that loads
// back to the run's effective profile: the file's keys, the defaults and the
// --set overrides, with every action's own keys and no other.
func TestWriteTOMLRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		sets       []string
	}{
		{"shipped default", "../../profiles/default.toml", []string{"fleet.clients=300", "chaos.0.nodes=[2, 0, 1]", "chaos.0.batch=2"}},
		{"every action", "testdata/profile-actions.toml", nil},
		{"restart hooks", "testdata/profile-hooks.toml", nil},
		{"built-in", "", []string{"chaos=[]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := profile.Load(tt.file, tt.sets)
			if err != nil {
				t.Fatal(err)
			}
			path := writeTOML(t, p)
			data := mustRead(t, path)
			back, err := profile.Parse(data, path, nil)
			if err != nil {
				t.Fatalf("profile.toml does not load: %v\n%s", err, data)
			}
			if got, want := comparableProfile(back), comparableProfile(p); !reflect.DeepEqual(got, want) {
				t.Errorf("profile.toml loads as\n%+v\nwant\n%+v\n%s", got, want, data)
			}
			for _, o := range tt.sets {
				if !bytes.Contains(data, []byte("#   --set "+o+"\n")) {
					t.Errorf("profile.toml does not list the override %q", o)
				}
			}
		})
	}
}

// writeTOML writes p's profile.toml into a fresh directory, as a run
// writes it beside its results, and returns its path.
func writeTOML(t *testing.T, p *profile.Profile) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "profile.toml")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWriteTOMLSecrets checks that values from the environment never
// reach profile.toml, and that the file still loads.
func TestWriteTOMLSecrets(t *testing.T) {
	const secret = "s3cr3t-T0KEN-from-env"
	t.Setenv("WSSTORM_TEST_TOKEN", secret)
	t.Setenv("WSSTORM_TEST_PASSWORD", "hunter2-password")
	p, err := profile.Load("testdata/profile-external.toml", []string{"target.headers.X-Api-Key=typed-" + secret})
	if err != nil {
		t.Fatal(err)
	}
	data := mustRead(t, writeTOML(t, p))
	for _, s := range []string{secret, "hunter2-password"} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("profile.toml holds the secret %q", s)
		}
	}
	if !bytes.Contains(data, []byte(`Authorization = "Bearer [redacted]"`)) {
		t.Errorf("the header is not shown redacted:\n%s", data)
	}
	back, err := profile.Parse(data, "profile.toml", nil)
	if err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, data)
	}
	if want := "ws://user:%5Bredacted%5D@127.0.0.1:1/socket?token=%5Bredacted%5D&literal=a$b"; back.Target.URL != want {
		t.Errorf("URL loads back as %q, want %q", back.Target.URL, want)
	}
	if got := back.Target.Headers["X-Api-Key"]; got != "[redacted]" {
		t.Errorf("X-Api-Key loads back as %q", got)
	}
	if !reflect.DeepEqual(back.Fleet, p.Fleet) || back.Duration != p.Duration {
		t.Errorf("fleet or duration changed on the way: %+v", back)
	}
}

// TestWriteTOMLSecretLikeTOML checks that a secret that reads like a
// TOML value does not break the file.
func TestWriteTOMLSecretLikeTOML(t *testing.T) {
	t.Setenv("WSSTORM_TEST_TOKEN", "true")
	t.Setenv("WSSTORM_TEST_PASSWORD", "2000")
	p, err := profile.Load("testdata/profile-external.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.Parse(b.Bytes(), "profile.toml", nil); err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, b.String())
	}
	if !strings.Contains(b.String(), "honor_retry_after = true") {
		t.Errorf("a secret \"true\" garbled the file:\n%s", b.String())
	}
}

// TestWriteTOMLShortSecrets checks that secrets too short for Redact to
// replace everywhere (1 to 3 characters) still go whole from the URL and
// headers, including a header typed with --set.
func TestWriteTOMLShortSecrets(t *testing.T) {
	t.Setenv("WSSTORM_TEST_TOKEN", "k9z")
	t.Setenv("WSSTORM_TEST_PASSWORD", "pw1")
	p, err := profile.Load("testdata/profile-external.toml", []string{"target.headers.X-Other=abc"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, secret := range []string{"k9z", "pw1", "abc"} {
		if strings.Contains(text, secret) {
			t.Errorf("profile.toml holds the secret %q:\n%s", secret, text)
		}
	}
	if _, err := profile.Parse(b.Bytes(), "profile.toml", nil); err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, text)
	}
}

// writeTestCA writes a self-signed CA certificate and its key in PEM to dir
// and returns their paths: enough for a TLS setup that validates.
func writeTestCA(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsstorm test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

// TestWriteTOMLTargetModes checks that profile.toml loads back, with
// profile.Load as `wsstorm run profile.toml` and the merge read it, to the
// profile the run had, for every kind of target: keys that do not apply to
// the mode, or that sit at a zero value validation rejects there (an empty
// [target.tls] for a ws:// URL), must not be written.
func TestWriteTOMLTargetModes(t *testing.T) {
	const hooks = `
on_hook_failure = "abort"
[[target.nodes]]
name = "web-1"
command = ["systemctl", "restart", "web@{{node}}"]
[[target.nodes]]
name = "web-2"
http = { method = "POST", url = "http://127.0.0.1:9900/restart?node={{node}}", status = 200 }

[[chaos]]
at = "2s"
action = "rolling_restart"
interval = "2s"
`
	for _, tt := range []struct{ name, toml string }{
		{"embedded", `
name = "embedded"
duration = "10s"
[target]
mode = "embedded"
nodes = 2
[target.capacity]
accept_rate = 500
max_conns = 100
[fleet]
clients = 20
[[chaos]]
at = "3s"
action = "restart"
node = 1
`},
		{"external ws", `
name = "external-ws"
duration = "10s"
[target]
mode = "external"
url = "ws://127.0.0.1:1/ws?client={{client}}"
` + hooks},
		{"external wss with TLS", `
name = "external-wss"
duration = "10s"
[target]
mode = "external"
url = "wss://127.0.0.1:1/ws"
headers = { X-Team = "storm" }
tls = { ca_file = "ca.pem", server_name = "ws.example.test", cert_file = "ca.pem", key_file = "ca-key.pem" }
` + hooks},
		{"external wss skipping verification", `
name = "external-insecure"
duration = "10s"
[target]
mode = "external"
urls = ["wss://127.0.0.1:1/ws", "wss://127.0.0.1:2/ws"]
tls = { insecure_skip_verify = true }
` + hooks},
		{"proxy ws", `
name = "proxy-ws"
duration = "10s"
[target]
mode = "proxy"
nodes = 3
url = "ws://127.0.0.1:1/ws"
[[chaos]]
at = "2s"
action = "restart"
node = 0
`},
		{"proxy wss with TLS", `
name = "proxy-wss"
duration = "10s"
[target]
mode = "proxy"
url = "wss://127.0.0.1:1/ws?literal=a$${WSSTORM_NOT_EXPANDED}"
headers = { X-Team = "storm" }
tls = { ca_file = "ca.pem", server_name = "ws.example.test" }
`},
		{"observe external", `
name = "observe"
duration = "10s"
[target]
mode = "external"
url = "ws://127.0.0.1:1/ws"
[detect]
enabled = true
gap = "500ms"
min_closes = 3
`},
		{"observe embedded", `
name = "observe-embedded"
duration = "10s"
[detect]
enabled = true
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestCA(t, dir)
			src := filepath.Join(dir, "profile-in.toml")
			if err := os.WriteFile(src, []byte(tt.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := profile.Load(src, nil)
			if err != nil {
				t.Fatalf("the test's profile does not load: %v", err)
			}
			var b bytes.Buffer
			if err := p.WriteTOML(&b); err != nil {
				t.Fatal(err)
			}
			// Elsewhere, as a merge reads it: ca_file and the like are absolute.
			out := filepath.Join(t.TempDir(), "profile.toml")
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			back, err := profile.Load(out, nil)
			if err != nil {
				t.Fatalf("profile.toml does not load: %v\n%s", err, b.String())
			}
			if got, want := comparableProfile(back), comparableProfile(p); !reflect.DeepEqual(got, want) {
				t.Errorf("profile.toml loads as\n%+v\nwant\n%+v\n%s", got, want, b.String())
			}
		})
	}
}

// TestWriteTOMLProxyPassword checks that the password in a proxy's
// upstream URL is redacted, as an external target's is, and that the file
// still loads.
func TestWriteTOMLProxyPassword(t *testing.T) {
	p, err := profile.Parse([]byte("name = \"proxy\"\n[target]\nmode = \"proxy\"\nurl = \"ws://user:hunter2-password@127.0.0.1:1/ws\"\n"), "proxy.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") {
		t.Errorf("profile.toml holds the password:\n%s", b.String())
	}
	back, err := profile.Parse(b.Bytes(), "profile.toml", nil)
	if err != nil {
		t.Fatalf("profile.toml does not load: %v\n%s", err, b.String())
	}
	if want := "ws://user:%5Bredacted%5D@127.0.0.1:1/ws"; back.Target.URL != want {
		t.Errorf("URL loads back as %q, want %q", back.Target.URL, want)
	}
}
