package profile

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/action"
)

// TestScaleDefault scales the built-in default (45 s; ramp 5s; a rolling
// restart at 10s every 8s, downtime 2s; a close at 38s) to 20 s, as
// --quick does, and checks each time against its known value.
func TestScaleDefault(t *testing.T) {
	p, err := LoadScaled("", nil, Scale{To: QuickDuration})
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	if got := p.Duration.D(); got != 20*time.Second {
		t.Errorf("duration %v, want 20s", got)
	}
	if got := p.Fleet.Ramp.D(); got != 2222*ms {
		t.Errorf("ramp %v, want 2.222s", got)
	}
	rr := p.Chaos[0].Params.(*action.RollingRestartParams)
	if p.Chaos[0].At != 4444*ms || rr.Interval != 3556*ms || rr.Downtime != 889*ms || rr.Drain != 0 {
		t.Errorf("rolling restart at %v, interval %v, downtime %v, drain %v; want 4.444s, 3.556s, 889ms, 0s",
			p.Chaos[0].At, rr.Interval, rr.Downtime, rr.Drain)
	}
	if p.Chaos[1].At != 16889*ms {
		t.Errorf("close at %v, want 16.889s", p.Chaos[1].At)
	}
	// The clients' own times are what a run measures: left as they are.
	r := p.Fleet.Reconnect
	if r.Min.D() != time.Second || r.Max.D() != 5*time.Second || p.Fleet.HandshakeTimeout.D() != 5*time.Second || p.Fleet.Session.SendInterval.D() != time.Second {
		t.Errorf("client times changed: reconnect [%v, %v], handshake_timeout %v, send_interval %v", r.Min, r.Max, p.Fleet.HandshakeTimeout, p.Fleet.Session.SendInterval)
	}
	if p.Scale != 20.0/45 || !slices.Equal(p.Overrides, []string{"--scale=0.4444444444444444"}) {
		t.Errorf("recorded scale %v, overrides %q", p.Scale, p.Overrides)
	}
	// profile.toml holds the scaled times and says so; it loads back to them.
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "#   --scale=0.4444444444444444\n") || !strings.Contains(b.String(), "scaled already") {
		t.Errorf("profile.toml does not record the scale:\n%s", b.String())
	}
	back, err := Parse(b.Bytes(), "profile.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if back.Duration != p.Duration || back.Chaos[0].At != p.Chaos[0].At || !reflect.DeepEqual(back.Chaos[0].Params, rr) {
		t.Errorf("profile.toml loads back to other times")
	}
}

// TestScaleAfterSets: a factor scales the values the overrides give, and
// --scale after --set is recorded after them.
func TestScaleAfterSets(t *testing.T) {
	p, err := LoadScaled("", []string{"duration=60s", "chaos.1.at=50s"}, Scale{Factor: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration.D() != 30*time.Second || p.Chaos[0].At != 5*time.Second || p.Chaos[1].At != 25*time.Second {
		t.Errorf("duration %v, at %v and %v; want 30s, 5s, 25s", p.Duration, p.Chaos[0].At, p.Chaos[1].At)
	}
	if want := []string{"duration=60s", "chaos.1.at=50s", "--scale=0.5"}; !slices.Equal(p.Overrides, want) {
		t.Errorf("overrides %q, want %q", p.Overrides, want)
	}
	// --quick takes the duration the overrides give.
	if p, err = LoadScaled("", []string{"duration=60s", "chaos.1.at=50s"}, Scale{To: QuickDuration}); err != nil || p.Duration.D() != 20*time.Second {
		t.Errorf("--quick after duration=60s: %v, %v", p, err)
	}
	// A factor of 1 changes nothing, and records nothing.
	if p, err = LoadScaled("", nil, Scale{Factor: 1}); err != nil || p.Scale != 0 || len(p.Overrides) != 0 {
		t.Errorf("--scale 1: %+v, %v", p, err)
	}
}

// TestScaleErrors: a factor that is no factor is refused, and a step that a
// scale makes invalid says the timeline was scaled.
func TestScaleErrors(t *testing.T) {
	for _, f := range []float64{-1, math.Inf(1), math.NaN()} {
		if _, err := LoadScaled("", nil, Scale{Factor: f}); err == nil || !strings.HasPrefix(err.Error(), "--scale: ") {
			t.Errorf("--scale %v: %v", f, err)
		}
	}
	// A freeze of 10s scaled to 1s no longer outlasts the pong timeout.
	sets := []string{"fleet.ping_interval=1s", "fleet.pong_timeout=2s", `chaos=[{at="10s", action="freeze", node=0, for="10s"}]`}
	_, err := LoadScaled("", sets, Scale{Factor: 0.1})
	if err == nil || !strings.Contains(err.Error(), "chaos.0.for: 1s is not longer than the clients' pong timeout 2s") ||
		!strings.Contains(err.Error(), "(the timeline is scaled by 0.1: --scale or --quick)") {
		t.Errorf("freeze scaled below the pong timeout: %v", err)
	}
}
