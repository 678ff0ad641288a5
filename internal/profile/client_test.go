package profile

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/clientlib"
)

// rwsProfile names the reconnecting-websocket preset, one of the presets
// that exist from the start, with options in the library's own names.
const rwsProfile = `[fleet]
client = "reconnecting-websocket@4"
[fleet.client_options]
minReconnectionDelay = 2000
reconnectionDelayGrowFactor = 1.5
`

// TestClientOptions: fleet.client names a preset, [fleet.client_options]
// decode into its option struct in the library's names (an integer where
// the library takes a number), --set overrides them, the preset is built,
// and its connect timeout takes the handshake timeout's place.
func TestClientOptions(t *testing.T) {
	p, err := parse([]byte(rwsProfile), "p.toml", []string{"fleet.client_options.maxReconnectionDelay=20000"}, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := p.Fleet.ClientOptions.Params.(*clientlib.ReconnectingWebSocketOptions)
	if !ok {
		t.Fatalf("options %T, want *clientlib.ReconnectingWebSocketOptions", p.Fleet.ClientOptions.Params)
	}
	if o.MinReconnectionDelay != 2000 || o.ReconnectionDelayGrowFactor != 1.5 || o.MaxReconnectionDelay != 20000 || o.MinUptime != 5000 {
		t.Errorf("options %+v: want the file's, the override's and the library's defaults", *o)
	}
	if p.Fleet.ClientOptions.Preset == nil {
		t.Fatal("no preset built")
	}
	if got := p.Fleet.ConnectTimeout(); got != 4*time.Second {
		t.Errorf("connect timeout %v, want the library's connectionTimeout, 4s", got)
	}
	if got := p.Fleet.PongWait(); got != p.Fleet.HandshakeTimeout.D() {
		t.Errorf("pong wait %v, want fleet.handshake_timeout, %v: wsstorm's pings are not the library's", got, p.Fleet.HandshakeTimeout)
	}
	q, err := parse([]byte(rwsProfile), "p.toml", []string{"fleet.client=phoenix@1.8"}, testEnv(nil))
	if err == nil {
		t.Fatal("reconnecting-websocket's options accepted for phoenix@1.8")
	}
	q, err = parse([]byte("[fleet]\nclient = \"phoenix@1.8\"\nhandshake_timeout = \"3s\"\n"), "q.toml", nil, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Fleet.ConnectTimeout(); got != 0 {
		t.Errorf("connect timeout %v with phoenix, which sets none: want none (0), not fleet.handshake_timeout", got)
	}
	if !slices.Contains(SetKeys(), "fleet.client_options.minReconnectionDelay") || !slices.Contains(SetKeys(), "fleet.client") {
		t.Error("SetKeys lacks the client keys")
	}
}

// TestClientEffectiveProfile: the effective profile names the preset, gives
// every option and none of the keys the preset replaces, says what times
// the attempts out, and loads back to the same options.
func TestClientEffectiveProfile(t *testing.T) {
	src := rwsProfile + "[fleet.reconnect]\non_close = { 4000 = \"stop\" }\n"
	p, err := parse([]byte(src), "p.toml", nil, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`client = "reconnecting-websocket@4"`, "[fleet.client_options]", "minReconnectionDelay = 2000", "maxRetries = inf", "connect attempts time out after 4s", "4000 = \"stop\""} {
		if !strings.Contains(out, want) {
			t.Errorf("effective profile lacks %q:\n%s", want, out)
		}
	}
	for _, k := range ClientReplaces() {
		if strings.Contains(out, "\n"+k+" = ") {
			t.Errorf("effective profile gives %s, which the preset replaces:\n%s", k, out)
		}
	}
	q, err := parse(b.Bytes(), "q.toml", nil, testEnv(nil))
	if err != nil {
		t.Fatalf("the effective profile does not load: %v\n%s", err, out)
	}
	if got := *q.Fleet.ClientOptions.Params.(*clientlib.ReconnectingWebSocketOptions); got != *p.Fleet.ClientOptions.Params.(*clientlib.ReconnectingWebSocketOptions) {
		t.Errorf("reloaded options %+v", got)
	}
	// Without a preset, no client key.
	p, err = parse([]byte("[fleet]\nclients = 10\n"), "p.toml", nil, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	_ = p.WriteTOML(&b)
	if strings.Contains(b.String(), "client_options") || strings.Contains(b.String(), "client =") {
		t.Errorf("effective profile without a preset:\n%s", b.String())
	}
}

// TestClientErrors: what is wrong with fleet.client and its options is said
// at the key, with what to write.
func TestClientErrors(t *testing.T) {
	names := strings.Join(clientlib.Names(), ", ")
	tests := []struct {
		name, src string
		sets      []string
		want      string
	}{
		{"no version", "[fleet]\nclient = \"reconnecting-websocket\"", nil,
			`p.toml:2: fleet.client: "reconnecting-websocket" is not a client preset (did you mean "reconnecting-websocket@4"?): use one of ` + names + `, or remove it for [fleet.reconnect]'s backoff`},
		{"typo", "[fleet]\nclient = \"reconecting-websocket@4\"", nil,
			`p.toml:2: fleet.client: "reconecting-websocket@4" is not a client preset (did you mean "reconnecting-websocket@4"?): use one of ` + names + `, or remove it for [fleet.reconnect]'s backoff`},
		{"unknown", "[fleet]\nclient = \"okhttp@4\"", nil,
			`p.toml:2: fleet.client: "okhttp@4" is not a client preset: use one of ` + names + `, or remove it for [fleet.reconnect]'s backoff`},
		{"unknown option", rwsProfile + "minReconectionDelay = 1", nil,
			`p.toml:6: fleet.client_options.minReconectionDelay: unknown option of client reconnecting-websocket@4 (did you mean fleet.client_options.minReconnectionDelay?)`},
		{"unknown option by --set", rwsProfile, []string{"fleet.client_options.delay=1"},
			`--set fleet.client_options.delay: unknown option of client reconnecting-websocket@4: it takes maxReconnectionDelay, minReconnectionDelay, minUptime, reconnectionDelayGrowFactor, connectionTimeout, maxRetries`},
		{"bad value", rwsProfile + "minUptime = -5", nil,
			`p.toml:6: fleet.client_options.minUptime: is -5: want a number of 0 or more`},
		{"wrong type", rwsProfile + "minUptime = \"5s\"", nil,
			`p.toml:6: fleet.client_options.minUptime: expected a number, found the string "5s"`},
		{"options without a client", "[fleet.client_options]\nminUptime = 1", nil,
			`p.toml:2: fleet.client_options.minUptime: is a client option, and fleet.client is not set: name the client (` + names + `), or remove [fleet.client_options]`},
		{"not a table", "[fleet]\nclient = \"reconnecting-websocket@4\"\nclient_options = 3", nil,
			`p.toml:3: fleet.client_options: must be a table of the client's options, e.g. [fleet.client_options] with reconnectionDelay = 2000, not the integer 3`},
		{"a backoff key too", rwsProfile + "[fleet.reconnect]\nstrategy = \"window\"", nil,
			"p.toml:7: fleet.reconnect.strategy: is part of [fleet.reconnect]'s generic backoff, which fleet.client = \"reconnecting-websocket@4\" replaces with the library's own reconnect loop: remove it, and set the library's options in [fleet.client_options] instead (`wsstorm clients reconnecting-websocket@4` lists them); on_close entries still apply, code by code"},
		{"a backoff key by --set", rwsProfile, []string{"fleet.reconnect.max_attempts=3"},
			"--set fleet.reconnect.max_attempts: is part of [fleet.reconnect]'s generic backoff, which"},
		{"backoff keys", rwsProfile + "[fleet.reconnect]\nmin = \"1s\"\nmax = \"2s\"\nfirst_delay = \"1s\"", nil,
			"p.toml:7: fleet.reconnect.min: is part of [fleet.reconnect]'s generic backoff (as are max, first_delay), which"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "p.toml", tc.sets, testEnv(nil))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
	// on_close layers over the library: allowed.
	if _, err := parse([]byte(rwsProfile+"[fleet.reconnect]\non_close = { 1000 = \"reconnect\" }\n"), "p.toml", nil, testEnv(nil)); err != nil {
		t.Errorf("on_close with a client preset: %v", err)
	}
}

// TestClientOverBuiltin: `--set fleet.client=...` on the built-in default
// runs its scenario with the library's loop: the default's generic backoff
// and its on_close entries step aside, and the library decides 1000 and
// 1012. A backoff key the user sets still clashes with the preset.
func TestClientOverBuiltin(t *testing.T) {
	p, err := Load("", []string{"fleet.client=phoenix@1.8"})
	if err != nil {
		t.Fatalf("--set fleet.client on the built-in default: %v", err)
	}
	if len(p.Fleet.Reconnect.OnClose) != 0 {
		t.Errorf("on_close %v: the built-in's entries must not layer over the library", p.Fleet.Reconnect.OnClose)
	}
	p, err = Load("", []string{"fleet.client=phoenix@1.8", "fleet.reconnect.on_close.4000=stop"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"4000": OnCloseStop}; !maps.Equal(p.Fleet.Reconnect.OnClose, want) {
		t.Errorf("on_close %v, want only the user's %v", p.Fleet.Reconnect.OnClose, want)
	}
	_, err = Load("", []string{"fleet.client=phoenix@1.8", "fleet.reconnect.min=2s", "fleet.reconnect.max=3s"})
	if err == nil || !strings.Contains(err.Error(), "fleet.reconnect.min: is part of [fleet.reconnect]'s generic backoff (as are max)") {
		t.Errorf("a user's backoff keys with a preset: %v", err)
	}
}

// TestClientOnCloseIsTheUsers: with a preset, on_close holds only what the
// profile wrote, never the defaults' compliant-client entries.
func TestClientOnCloseIsTheUsers(t *testing.T) {
	src := "[fleet]\nclient = \"@microsoft/signalr@10\"\n"
	p, err := parse([]byte(src), "p.toml", nil, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Fleet.Reconnect.OnClose) != 0 {
		t.Errorf("on_close %v, want none: the library decides 1000", p.Fleet.Reconnect.OnClose)
	}
	p, err = parse([]byte(src+"[fleet.reconnect]\non_close = { \"1000\" = \"stop\" }\n"), "p.toml", nil, testEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"1000": OnCloseStop}; !maps.Equal(p.Fleet.Reconnect.OnClose, want) {
		t.Errorf("on_close %v, want %v", p.Fleet.Reconnect.OnClose, want)
	}
}
