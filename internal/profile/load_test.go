package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/profiles"
)

const shipped = "../../profiles"

// errorLines returns the lines of err, which must be an Errors.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want some")
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is a %T, want Errors: %v", err, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

func TestShippedProfilesLoad(t *testing.T) {
	entries, err := fs.ReadDir(profiles.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, want := range []string{"default.toml", "no-jitter.toml", "full-jitter.toml", "socketio-client.toml"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("profiles.FS lacks %s; has %v", want, names)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(shipped, name)
			p, err := Load(path, nil)
			if err != nil {
				t.Fatalf("Load(%s): %v", path, err)
			}
			if want := strings.TrimSuffix(name, ".toml"); p.Name != want {
				t.Errorf("name = %q, want %q", p.Name, want)
			}
			embedded, err := fs.ReadFile(profiles.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			onDisk, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(embedded, onDisk) {
				t.Errorf("embedded %s differs from the file", name)
			}
		})
	}
}

func TestBuiltinIsDefaultFile(t *testing.T) {
	builtin, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load(\"\"): %v", err)
	}
	path := filepath.Join(shipped, "default.toml")
	file, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if builtin.Path != BuiltinPath || file.Path != path {
		t.Errorf("paths = %q, %q; want %q, %q", builtin.Path, file.Path, BuiltinPath, path)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(profiles.Default, onDisk) {
		t.Error("profiles.Default differs from profiles/default.toml")
	}
	sum := sha256.Sum256(onDisk)
	if builtin.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, want the digest of default.toml", builtin.SHA256)
	}
	file.Path = builtin.Path
	if !reflect.DeepEqual(builtin, file) {
		t.Errorf("built-in profile differs from default.toml:\n%+v\n%+v", *builtin, *file)
	}
}

// The default profile writes out every default, so that it documents them.
func TestDefaultFileSpellsOutDefaults(t *testing.T) {
	p, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	got := *p
	if len(got.Thresholds) == 0 {
		t.Error("default.toml has no thresholds: it shows how a run gates CI")
	}
	got.Chaos, got.Thresholds, got.Path, got.SHA256, got.Overrides = nil, map[string]string{}, "", "", nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default.toml without chaos and thresholds:\n%+v\nDefaults():\n%+v", got, want)
	}
	wantChaos := []ChaosStep{
		{At: 10 * time.Second, Action: "rolling_restart", Params: &action.RollingRestartParams{Batch: 1, Interval: 8 * time.Second,
			Downtime: 2 * time.Second, Code: 1012}},
		{At: 38 * time.Second, Action: "close", Params: &action.CloseParams{Fraction: 0.1, Code: 1000}},
	}
	if !reflect.DeepEqual(p.Chaos, wantChaos) {
		t.Errorf("chaos = %+v, want %+v", p.Chaos, wantChaos)
	}
}

func TestJitterProfilesDifferOnlyInNameAndStrategy(t *testing.T) {
	a, err := Load(filepath.Join(shipped, "no-jitter.toml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(filepath.Join(shipped, "full-jitter.toml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fleet.Reconnect.Strategy != StrategyExponential || b.Fleet.Reconnect.Strategy != StrategyFullJitter {
		t.Errorf("strategies = %s, %s; want exponential, full_jitter", a.Fleet.Reconnect.Strategy, b.Fleet.Reconnect.Strategy)
	}
	for _, p := range []*Profile{a, b} {
		if p.Fleet.Clients != 2000 || p.Target.Nodes != 3 || p.Target.Capacity.AcceptRate != 2000 {
			t.Errorf("%s: clients %d, nodes %d, accept_rate %v; want the default's 2000, 3, 2000",
				p.Name, p.Fleet.Clients, p.Target.Nodes, p.Target.Capacity.AcceptRate)
		}
		for _, r := range []Duration{p.Fleet.Reconnect.Base, p.Fleet.Reconnect.Cap} {
			if r.D() != time.Second && r.D() != 30*time.Second {
				t.Errorf("%s: base/cap %v, want 1s and 30s", p.Name, r)
			}
		}
		p.Name, p.Fleet.Reconnect.Strategy, p.Path, p.SHA256 = "", "", "", ""
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("no-jitter and full-jitter differ beyond name and strategy:\n%+v\n%+v", *a, *b)
	}
	def, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Chaos, def.Chaos) {
		t.Errorf("chaos = %+v, want the default's %+v", a.Chaos, def.Chaos)
	}
}

func TestDefaultsForOmittedKeys(t *testing.T) {
	p, err := Load("testdata/minimal.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Name = "minimal" // from the file name
	want.Fleet.Clients = 100
	want.Chaos = []ChaosStep{
		{At: 5 * time.Second, Action: "rolling_restart", Params: &action.RollingRestartParams{Batch: 1, Interval: 10 * time.Second,
			Downtime: 2 * time.Second, Code: 1012}},
		{At: 40 * time.Second, Action: "restart", Params: &action.RestartParams{Node: 2, Downtime: 2 * time.Second, Code: 1012}},
		{At: 30 * time.Second, Action: "close", Params: &action.CloseParams{Fraction: 1, Code: 1000}},
	}
	want.Path = "testdata/minimal.toml"
	want.SHA256 = p.SHA256
	want.Warnings = p.Warnings // returns_test.go checks them
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("got  %+v\nwant %+v", *p, want)
	}
}

// Defaults must return fresh maps: a profile that changes its on_close must
// not change the next one's.
func TestDefaultsShareNothing(t *testing.T) {
	a := Defaults()
	a.Fleet.Reconnect.OnClose["1000"] = OnCloseReconnect
	if b := Defaults(); b.Fleet.Reconnect.OnClose["1000"] != OnCloseStop {
		t.Error("Defaults shares its on_close map between calls")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string // every error, in order
	}{
		{"unknown_keys.toml", []string{
			`testdata/unknown_keys.toml:3: durration: unknown key (did you mean duration?)`,
			`testdata/unknown_keys.toml:6: target.node: unknown key (did you mean target.nodes?)`,
			`testdata/unknown_keys.toml:7: target.capacity.accept_rat: unknown key (did you mean target.capacity.accept_rate?)`,
			`testdata/unknown_keys.toml:10: fleet.clinets: unknown key (did you mean fleet.clients?)`,
			`testdata/unknown_keys.toml:12: fleet.sesion: unknown key (did you mean fleet.session?)`,
			`testdata/unknown_keys.toml:16: fleet.reconnect.Strategy: unknown key (did you mean fleet.reconnect.strategy?)`,
			`testdata/unknown_keys.toml:17: fleet.reconnect.jitter: unknown key: fleet.reconnect takes strategy, min, max, base, cap, first_delay, max_attempts, honor_retry_after, on_close, on_close_default`,
			`testdata/unknown_keys.toml:26: chaos.1.fractoin: unknown key (did you mean chaos.1.fraction?)`,
		}},
		{"type_errors.toml", []string{
			`testdata/type_errors.toml:2: duration: expected a duration string such as "5s", found the integer 45: write it in quotes with a unit, e.g. "45s"`,
			`testdata/type_errors.toml:3: seed: expected an integer of 0 or more, found the string "1": remove the quotes`,
			`testdata/type_errors.toml:6: target.nodes: expected an integer, found the float 2.5`,
			`testdata/type_errors.toml:7: target.capacity: expected a table, found the string "fast"`,
			`testdata/type_errors.toml:10: fleet.clients: expected an integer, found the string "5000": remove the quotes`,
			`testdata/type_errors.toml:11: fleet.ramp: "5 seconds" is not a duration: write a Go duration such as "500ms", "5s" or "1m30s"`,
			`testdata/type_errors.toml:14: fleet.reconnect.honor_retry_after: expected true or false, found the string "yes"`,
			`testdata/type_errors.toml:15: fleet.reconnect.on_close.1000: expected a string, found the boolean true: put it in quotes`,
			`testdata/type_errors.toml:20: chaos.0.nodes.1: expected an integer, found the string "1": remove the quotes`,
			// The same key in two [[chaos]] entries: each its own line.
			`testdata/type_errors.toml:21: chaos.0.code: expected an integer, found the string "1012": remove the quotes`,
			`testdata/type_errors.toml:26: chaos.1.code: expected an integer, found the string "1000": remove the quotes`,
			`testdata/type_errors.toml:27: chaos.1.fraction: expected a number, found the string "10%"`,
		}},
		{"many_errors.toml", []string{
			`testdata/many_errors.toml:2: name: "many errors" is not a valid name: use only letters, digits, '.', '_' and '-', since it names the results directory`,
			`testdata/many_errors.toml:6: target.mode: "cloud" is not a target mode; use "embedded", "external" or "proxy"`,
			`testdata/many_errors.toml:10: fleet.clients: 0 is out of range: use 1 to 1000000 clients`,
			`testdata/many_errors.toml:11: fleet.ramp: 30s is not shorter than the run's duration 30s: shorten ramp or lengthen duration`,
			`testdata/many_errors.toml:12: fleet.handshake_timout: unknown key (did you mean fleet.handshake_timeout?)`,
			`testdata/many_errors.toml:15: fleet.session.payload_bytes: expected an integer, found the string "64": remove the quotes`,
			`testdata/many_errors.toml:20: fleet.reconnect.cap: 1s is below base 2s: exponential needs cap ≥ base`,
			`testdata/many_errors.toml:21: fleet.reconnect.on_close.1006: "retry" is not an action: use "reconnect" or "stop"`,
			`testdata/many_errors.toml:26: chaos.0.nodes.1: node 2 is out of range: the target has 2 nodes (0 to 1)`,
			`testdata/many_errors.toml:27: chaos.0.interval: 1s is shorter than drain + downtime (2s): a batch would go down before the one before it is back; use 2s or more`,
			`testdata/many_errors.toml:30: chaos.0.code: 1006 is reserved for a connection lost without a close frame and must never be sent; use 1012 (Service Restart) to restart, 1000 (Normal Closure) to end sessions, or 4000–4999 for your own codes`,
			`testdata/many_errors.toml:36: chaos.1.fraction: does not apply to a restart step: remove it; a restart takes at, action, node, drain, downtime, code and reason`,
			`testdata/many_errors.toml:41: chaos.2.fraction: 1.5 is out of range: use the share of connected clients to close, above 0 and at most 1, e.g. 0.1`,
		}},
		{"syntax_error.toml", []string{
			`testdata/syntax_error.toml:5: fleet.ramp: 5s is not a TOML value: write durations in quotes, e.g. ramp = "5s"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tt.file), nil)
			got := errorLines(t, err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() does not join the errors with newlines:\n%s", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such.toml", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want one that is fs.ErrNotExist", err)
	}
	want := "testdata/no-such.toml: cannot read the profile: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"[[chaos]]\nat = \"1s\"\naction = \"close\"\n[[chaos]]\nat = 10s\n",
			`s.toml:5: chaos.1.at: 10s is not a TOML value: write durations in quotes, e.g. at = "10s"`},
		{"[fleet.reconnect]\nstrategy = full_jitter # the AWS one\n",
			`s.toml:2: fleet.reconnect.strategy: full_jitter is not a TOML value: write strings in quotes, e.g. strategy = "full_jitter"`},
		{"[fleet.reconnect]\nhonor_retry_after = True\n",
			`s.toml:2: fleet.reconnect.honor_retry_after: True is not a TOML value: write true in lower case`},
		{"name = \"a\"\nname = \"b\"\n",
			`s.toml:2: invalid TOML: Key 'name' has already been defined.`},
		{"[fleet]\nclients = 5000 clients\n",
			`s.toml:2: invalid TOML: expected a top-level item to end with a newline, comment, or EOF, but got 'c' instead`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.src), "s.toml", nil)
		if got := errorLines(t, err); len(got) != 1 || got[0] != tt.want {
			t.Errorf("Parse(%q):\n got %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "a.toml", Line: 3, Key: "fleet.clients", Msg: "bad"}, "a.toml:3: fleet.clients: bad"},
		{Error{File: "a.toml", Key: "fleet.ramp", Msg: "bad"}, "a.toml: fleet.ramp: bad"},
		{Error{File: "a.toml", Line: 3, Msg: "bad"}, "a.toml:3: bad"},
		{Error{Key: "fleet.ramp", Msg: "bad"}, "fleet.ramp: bad"},
		{Error{File: SetFile, Key: "fleet.clinets", Msg: "bad"}, "--set fleet.clinets: bad"},
		{Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
