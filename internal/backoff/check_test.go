package backoff

import (
	"testing"
	"time"
)

// TestCheck: each strategy says which of its parameters is wrong and how;
// the profile turns that into its error with the key, so these are the
// messages a profile's reader sees after the key.
func TestCheck(t *testing.T) {
	ok := Params{Min: time.Second, Max: 5 * time.Second, Base: time.Second, Cap: 30 * time.Second}
	with := func(edit func(*Params)) Params {
		p := ok
		edit(&p)
		return p
	}
	defaulted := func(param string) string {
		if param == "base" {
			return " (the default)"
		}
		return ""
	}
	tests := []struct {
		strategy  string
		p         Params
		wantParam string
		wantMsg   string
	}{
		{None, with(func(p *Params) { p.Min, p.Base = -1, -1 }), "", ""},
		{Constant, with(func(p *Params) { p.Base = -time.Second }), "base", "-1s is negative: use 0s or more"},
		{Constant, with(func(p *Params) { p.Base = 0 }), "", ""},
		{Window, with(func(p *Params) { p.Min = -time.Second }), "min", "-1s is negative: use 0s or more"},
		{Window, with(func(p *Params) { p.Min = 6 * time.Second }), "max", "5s is below min 6s: a window needs min ≤ max"},
		{Window, with(func(p *Params) { p.Min, p.Max = 0, 0 }), "", ""},
		{Exponential, with(func(p *Params) { p.Base = 0 }), "base", `0s is too short: exponential needs a base above 0, e.g. "1s"`},
		{FullJitter, with(func(p *Params) { p.Cap = 500 * time.Millisecond }), "cap", "500ms is below base 1s (the default): full_jitter needs cap ≥ base"},
		{EqualJitter, with(func(p *Params) { p.Cap = time.Second }), "", ""},
		{DecorrelatedJitter, with(func(p *Params) { p.Base = -time.Second }), "base", `-1s is too short: decorrelated_jitter needs a base above 0, e.g. "1s"`},
		{"linear", ok, "", ""},
	}
	for _, tt := range tests {
		pr := Check(tt.strategy, tt.p)
		switch {
		case pr == nil && tt.wantParam != "":
			t.Errorf("Check(%s, %+v) = nil, want a problem with %s", tt.strategy, tt.p, tt.wantParam)
		case pr != nil && tt.wantParam == "":
			t.Errorf("Check(%s, %+v) = %v, want nil", tt.strategy, tt.p, pr)
		case pr != nil && (pr.Param != tt.wantParam || pr.Strategy != tt.strategy || pr.Message(defaulted) != tt.wantMsg):
			t.Errorf("Check(%s, %+v): %s: %q, want %s: %q", tt.strategy, tt.p, pr.Param, pr.Message(defaulted), tt.wantParam, tt.wantMsg)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("linear", Params{}); err == nil || err.Error() != `reconnect strategy "linear" is unknown: want one of none, constant, window, exponential, full_jitter, equal_jitter, decorrelated_jitter` {
		t.Errorf("New(linear): %v", err)
	}
	_, err := New(Window, Params{Min: time.Second, Max: time.Millisecond})
	if pr, ok := err.(*Problem); !ok || pr.Param != "max" || err.Error() != "reconnect strategy window: max 1ms is below min 1s: a window needs min ≤ max" {
		t.Errorf("New(window, max < min): %v", err)
	}
	for _, name := range Names() {
		if !Known(name) {
			t.Errorf("Known(%q) = false", name)
		}
	}
	if Known("Window") || Known("") {
		t.Error("Known accepts a name that is no strategy's")
	}
}
