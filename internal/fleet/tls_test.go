package fleet

import (
	"context"
	"encoding/pem"
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
	conn, _, err := newClient(f, 0).dial(context.Background(), -1)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
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
