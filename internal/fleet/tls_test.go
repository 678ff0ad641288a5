package fleet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// TestTLSVerification: a wss:// server with a certificate no system root
// signed is refused (reason tls) unless the profile trusts its CA file or
// turns verification off explicitly.
func TestTLSVerification(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","node":0}`))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	url := "wss" + strings.TrimPrefix(srv.URL, "https")

	for _, tc := range []struct {
		name    string
		tls     profile.TLS
		connect bool
	}{
		{"verified by default", profile.TLS{}, false},
		{"trusted through ca_file", profile.TLS{CAFile: caFile, ServerName: "example.com"}, true},
		{"insecure_skip_verify", profile.TLS{InsecureSkipVerify: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, err := tlsConfig(tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig()
			cfg.Clients = 2
			cfg.URL = url
			cfg.TLS = conf
			cfg.MaxAttempts = 1
			h := runFleet(t, nil, cfg, nil)
			if tc.connect {
				waitFor(t, "clients connected", 10*time.Second, connectedTo(h, 2))
			} else {
				select {
				case <-h.done:
				case <-time.After(10 * time.Second):
					t.Fatal("clients did not give up")
				}
			}
			res := h.results()
			if tc.connect && res.Counters.Connects != 2 {
				t.Fatalf("connects = %d, failures %v", res.Counters.Connects, res.Counters.ConnectFailures)
			}
			if !tc.connect && res.Counters.ConnectFailures["tls"] != 2 {
				t.Fatalf("failures = %v, want 2×tls", res.Counters.ConnectFailures)
			}
		})
	}
	if _, err := tlsConfig(profile.TLS{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Fatal("a missing ca_file is not an error")
	}
}

// TestHeadersSent: the profile's headers go with every handshake.
func TestHeadersSent(t *testing.T) {
	got := make(chan string, 4)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Authorization")
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	cfg := baseConfig()
	cfg.Clients = 1
	cfg.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	cfg.Header = http.Header{"Authorization": {"Bearer s3cret"}}
	rec := stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute})
	f, err := New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	hs, _, err := newClient(f, 0).dial(context.Background(), -1)
	if err != nil {
		t.Fatal(err)
	}
	hs.conn.Close()
	if h := <-got; h != "Bearer s3cret" {
		t.Fatalf("Authorization = %q", h)
	}
}

func TestCredentialsToHeader(t *testing.T) {
	for _, tc := range []struct {
		url, preset, wantURL, wantAuth string
	}{
		{"ws://h:1/p?q=1", "", "ws://h:1/p?q=1", ""},
		{"wss://alice:s3cret@h/p", "", "wss://h/p", "Basic YWxpY2U6czNjcmV0"},
		{"ws://alice:s3cret@h/p", "Bearer t", "ws://h/p", "Bearer t"},
		{"ws://a:b@h/{{client}}?x={{ seq }}&at=x@y", "", "ws://h/{{client}}?x={{ seq }}&at=x@y", "Basic YTpi"},
		{"ws://h/{{client}}", "", "ws://h/{{client}}", ""},
	} {
		h := http.Header{}
		if tc.preset != "" {
			h.Set("Authorization", tc.preset)
		}
		got, err := credentialsToHeader(tc.url, h)
		if err != nil || got != tc.wantURL || h.Get("Authorization") != tc.wantAuth {
			t.Errorf("%s: url %q auth %q err %v; want %q, %q", tc.url, got, h.Get("Authorization"), err, tc.wantURL, tc.wantAuth)
		}
	}
}

// writeClientCert writes a self-signed client certificate and its key as
// PEM files and returns their paths and the certificate.
func writeClientCert(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wsstorm client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestClientCertificate: a server that requires a client certificate takes
// the clients that present the profile's cert_file and key_file, and no
// others.
func TestClientCertificate(t *testing.T) {
	certFile, keyFile, cert := writeClientCert(t)
	up := websocket.Upgrader{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		drain(c)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		tls     profile.TLS
		connect bool
	}{
		{"with the certificate", profile.TLS{InsecureSkipVerify: true, CertFile: certFile, KeyFile: keyFile}, true},
		{"without", profile.TLS{InsecureSkipVerify: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, err := tlsConfig(tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig()
			cfg.Clients = 2
			cfg.URL = "wss" + strings.TrimPrefix(srv.URL, "https")
			cfg.TLS = conf
			cfg.MaxAttempts = 1
			h := runFleet(t, nil, cfg, nil)
			if tc.connect {
				waitFor(t, "clients connected", 10*time.Second, connectedTo(h, 2))
			} else {
				select {
				case <-h.done:
				case <-time.After(10 * time.Second):
					t.Fatal("clients did not give up")
				}
			}
			res := h.results()
			if want := map[bool]int64{true: 2, false: 0}[tc.connect]; res.Counters.Connects != want {
				t.Fatalf("connects = %d, want %d; failures %v", res.Counters.Connects, want, res.Counters.ConnectFailures)
			}
		})
	}
	if _, err := tlsConfig(profile.TLS{CertFile: certFile, KeyFile: certFile}); err == nil {
		t.Error("a certificate without its key is not an error")
	}
}

// TestFromProfileHandshake: a profile's headers, origin, subprotocols,
// URL templates and script files reach the server.
func TestFromProfileHandshake(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hello.bin")
	if err := os.WriteFile(file, []byte{1, 2, 3}, 0o600); err != nil {
		t.Fatal(err)
	}
	type seen struct{ origin, protocol, apiKey, client string }
	got := make(chan seen, 2)
	hello := make(chan []byte, 2)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := newTestServer(t, up, nil, func(c *websocket.Conn, r *http.Request) {
		got <- seen{r.Header.Get("Origin"), r.Header.Get("Sec-WebSocket-Protocol"), r.Header.Get("X-Api-Key"), r.URL.Query().Get("c")}
		if _, msg, err := c.ReadMessage(); err == nil {
			hello <- msg
		}
		drain(c)
	})
	p := profile.Defaults()
	p.Target.Mode = profile.ModeExternal
	p.Target.URL = srv.url + "/ws?c={{client}}"
	p.Target.Headers = map[string]string{"X-Api-Key": "k3y"}
	p.Target.Origin = "https://app.example.test"
	p.Target.Subprotocols = []string{"chat.v2", "chat.v1"}
	p.Fleet.Clients = 2
	p.Fleet.Ramp = profile.Dur(0)
	p.Fleet.PingInterval = profile.Dur(time.Minute)
	p.Fleet.Session.Echo = false
	p.Fleet.Session.Script = []profile.ScriptStep{{SendFile: file}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg, err := FromProfile(&p, p.Target.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.NoEcho || cfg.PingInterval != time.Minute {
		t.Errorf("NoEcho %v, PingInterval %v", cfg.NoEcho, cfg.PingInterval)
	}
	cfg.Backoff = constant(50 * time.Millisecond)
	h := runFleet(t, nil, cfg, nil)
	waitFor(t, "clients connected", 10*time.Second, connectedTo(h, 2))
	h.finish()
	clients := map[string]bool{}
	for range 2 {
		s := <-got
		if s.origin != "https://app.example.test" || s.protocol != "chat.v2, chat.v1" || s.apiKey != "k3y" {
			t.Errorf("handshake headers %+v", s)
		}
		clients[s.client] = true
		if msg := <-hello; string(msg) != "\x01\x02\x03" {
			t.Errorf("first message % x, want the file's bytes", msg)
		}
	}
	if !clients["0"] || !clients["1"] {
		t.Errorf("clients seen %v, want 0 and 1", clients)
	}

	p.Target.Headers["Sec-WebSocket-Protocol"] = "chat.v2"
	if _, err := FromProfile(&p, p.Target.URL); err == nil {
		t.Error("a Sec-WebSocket-Protocol header beside subprotocols is not an error")
	}
}
