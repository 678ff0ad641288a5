package profile

import (
	"bytes"
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
	// Each time rounded down to the millisecond (4/9 of 8s is 3.5555…s).
	if p.Chaos[0].At != 4444*ms || rr.Interval != 3555*ms || rr.Downtime != 888*ms || rr.Drain != 0 {
		t.Errorf("rolling restart at %v, interval %v, downtime %v, drain %v; want 4.444s, 3.555s, 888ms, 0s",
			p.Chaos[0].At, rr.Interval, rr.Downtime, rr.Drain)
	}
	if p.Chaos[1].At != 16888*ms {
		t.Errorf("close at %v, want 16.888s", p.Chaos[1].At)
	}
	// The clients' own times are what a run measures: left as they are.
	r := p.Fleet.Reconnect
	if r.Min.D() != time.Second || r.Max.D() != 5*time.Second || p.Fleet.HandshakeTimeout.D() != 5*time.Second || p.Fleet.Session.SendInterval.D() != time.Second {
		t.Errorf("client times changed: reconnect [%v, %v], handshake_timeout %v, send_interval %v", r.Min, r.Max, p.Fleet.HandshakeTimeout, p.Fleet.Session.SendInterval)
	}
	if p.Scale != 20.0/45 || p.ScaleExact != "4/9" || len(p.Overrides) != 0 {
		t.Errorf("recorded scale %v (%s), overrides %q", p.Scale, p.ScaleExact, p.Overrides)
	}
	// profile.toml holds the scaled times and says so; it loads back to them.
	var b bytes.Buffer
	if err := p.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "scaled already (--scale 4/9)") {
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

// TestScaleAfterSets: a factor scales the values the overrides give, which
// stay recorded as given.
func TestScaleAfterSets(t *testing.T) {
	p, err := LoadScaled("", []string{"duration=60s", "chaos.1.at=50s"}, Scale{Factor: "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration.D() != 30*time.Second || p.Chaos[0].At != 5*time.Second || p.Chaos[1].At != 25*time.Second {
		t.Errorf("duration %v, at %v and %v; want 30s, 5s, 25s", p.Duration, p.Chaos[0].At, p.Chaos[1].At)
	}
	if want := []string{"duration=60s", "chaos.1.at=50s"}; !slices.Equal(p.Overrides, want) || p.Scale != 0.5 {
		t.Errorf("overrides %q, want %q", p.Overrides, want)
	}
	// --quick takes the duration the overrides give.
	if p, err = LoadScaled("", []string{"duration=60s", "chaos.1.at=50s"}, Scale{To: QuickDuration}); err != nil || p.Duration.D() != 20*time.Second {
		t.Errorf("--quick after duration=60s: %v, %v", p, err)
	}
	// A factor of 1 changes nothing, and records nothing.
	if p, err = LoadScaled("", nil, Scale{Factor: "1"}); err != nil || p.Scale != 0 || len(p.Overrides) != 0 {
		t.Errorf("--scale 1: %+v, %v", p, err)
	}
}

// TestScaleErrors: a factor that is no factor is refused, and a step that a
// scale makes invalid says the timeline was scaled.
func TestScaleErrors(t *testing.T) {
	for _, f := range []string{"-1", "0", "inf", "x"} {
		if _, err := LoadScaled("", nil, Scale{Factor: f}); err == nil || !strings.HasPrefix(err.Error(), "--scale: ") {
			t.Errorf("--scale %v: %v", f, err)
		}
	}
	// A freeze of 10s scaled to 1s no longer outlasts the pong timeout.
	sets := []string{"fleet.ping_interval=1s", "fleet.pong_timeout=2s", `chaos=[{at="10s", action="freeze", node=0, for="10s"}]`}
	_, err := LoadScaled("", sets, Scale{Factor: "0.1"})
	if err == nil || !strings.Contains(err.Error(), "chaos.0.for: 1s is not longer than the clients' pong timeout 2s") ||
		!strings.Contains(err.Error(), "(the timeline is scaled by 0.1: --scale or --quick)") {
		t.Errorf("freeze scaled below the pong timeout: %v", err)
	}
}

// TestScaleKeepsStepsApart: steps that met end to end before scaling do
// not overlap after it (every time is rounded down, exactly): a restart at
// 5s with 5s of downtime, then one at 10s, scaled by 1/3 (--quick on 60s).
func TestScaleKeepsStepsApart(t *testing.T) {
	sets := []string{"duration=60s", `chaos=[{at="5s", action="restart", node=0, downtime="5s"}, {at="10s", action="restart", node=1, downtime="5s"}]`}
	if _, err := LoadScaled("", sets, Scale{}); err != nil {
		t.Fatalf("as written: %v", err)
	}
	p, err := LoadScaled("", sets, Scale{To: QuickDuration})
	if err != nil {
		t.Fatalf("--quick: %v", err)
	}
	rp := p.Chaos[0].Params.(*action.RestartParams)
	if end := p.Chaos[0].At + rp.Downtime; end > p.Chaos[1].At {
		t.Errorf("the first restart ends at %v, after the second starts at %v", end, p.Chaos[1].At)
	}
	// Below a millisecond too: 9ms + 10ms meet 19ms; scaled by 0.1, all
	// three fall on the millisecond grid (0s + 1ms, 1ms), not 0.9ms + 1ms.
	sets = []string{"duration=60s", `chaos=[{at="9ms", action="restart", node=0, downtime="10ms"}, {at="19ms", action="restart", node=1, downtime="5s"}]`}
	if _, err := LoadScaled("", sets, Scale{Factor: "0.1"}); err != nil {
		t.Errorf("--scale 0.1 on steps that meet below a millisecond: %v", err)
	}
}
