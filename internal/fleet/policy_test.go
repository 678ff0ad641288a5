package fleet

import (
	"testing"

	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestPolicyOnClose(t *testing.T) {
	tests := []struct {
		name string
		r    profile.Reconnect
		want map[int]Action // close code → action
	}{
		{"defaults", profile.Reconnect{}, map[int]Action{
			1000: Stop,
			1001: Reconnect, 1006: Reconnect, 1011: Reconnect,
			1012: Reconnect, 1013: Reconnect, 1014: Reconnect,
			// Not listed: on_close_default, "reconnect" when empty.
			1002: Reconnect, 1003: Reconnect, 1005: Reconnect, 1008: Reconnect,
			1009: Reconnect, 1015: Reconnect, 3001: Reconnect, 4000: Reconnect,
			4999: Reconnect, 0: Reconnect,
		}},
		{"explicit default reconnect", profile.Reconnect{OnCloseDefault: "reconnect"}, map[int]Action{
			1000: Stop, 1012: Reconnect, 1008: Reconnect, 3001: Reconnect,
		}},
		{"default stop leaves the listed codes alone", profile.Reconnect{OnCloseDefault: "stop"}, map[int]Action{
			1000: Stop,
			1001: Reconnect, 1006: Reconnect, 1011: Reconnect,
			1012: Reconnect, 1013: Reconnect, 1014: Reconnect,
			1002: Stop, 1008: Stop, 3001: Stop, 4000: Stop,
		}},
		{"overrides", profile.Reconnect{OnClose: map[string]string{
			"1000": "reconnect", // a client that starts a new session after a normal close
			"1012": "stop",
			"3001": "stop", // Centrifugo's shutdown
			"4000": "reconnect",
			"4999": "stop",
		}}, map[int]Action{
			1000: Reconnect, 1012: Stop, 3001: Stop, 4000: Reconnect, 4999: Stop,
			1001: Reconnect, 1006: Reconnect, 3002: Reconnect, 4001: Reconnect,
		}},
		{"overrides with default stop", profile.Reconnect{
			OnCloseDefault: "stop",
			OnClose:        map[string]string{"3001": "reconnect", "1013": "stop"},
		}, map[int]Action{
			3001: Reconnect, 1013: Stop, 1012: Reconnect, 1000: Stop, 3000: Stop,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPolicy(tt.r, nil)
			if err != nil {
				t.Fatalf("NewPolicy(%+v): %v", tt.r, err)
			}
			for code, want := range tt.want {
				if got := p.OnClose(code); got != want {
					t.Errorf("OnClose(%d) = %v, want %v", code, got, want)
				}
			}
		})
	}
}

func TestNewPolicyRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		r    profile.Reconnect
	}{
		{"unknown default", profile.Reconnect{OnCloseDefault: "retry"}},
		{"default case", profile.Reconnect{OnCloseDefault: "Stop"}},
		{"code not a number", profile.Reconnect{OnClose: map[string]string{"abc": "stop"}}},
		{"code with space", profile.Reconnect{OnClose: map[string]string{" 1000": "stop"}}},
		{"code below 1000", profile.Reconnect{OnClose: map[string]string{"999": "stop"}}},
		{"code above 4999", profile.Reconnect{OnClose: map[string]string{"5000": "stop"}}},
		{"unknown action", profile.Reconnect{OnClose: map[string]string{"1012": "later"}}},
		{"empty action", profile.Reconnect{OnClose: map[string]string{"1012": ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewPolicy(tt.r, nil); err == nil {
				t.Errorf("NewPolicy(%+v) succeeded, want an error", tt.r)
			}
		})
	}
}

func TestNewPolicyErrorIsStable(t *testing.T) {
	r := profile.Reconnect{OnClose: map[string]string{"abc": "stop", "xyz": "stop", "1012": "later", "999": "stop"}}
	_, first := NewPolicy(r, nil)
	for range 20 {
		if _, err := NewPolicy(r, nil); err == nil || err.Error() != first.Error() {
			t.Fatalf("NewPolicy errors %q, then %v", first, err)
		}
	}
}

func TestPolicyActionString(t *testing.T) {
	for a, want := range map[Action]string{Reconnect: "reconnect", Stop: "stop", 0: "Action(0)", 9: "Action(9)"} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", int(a), got, want)
		}
	}
}

func TestPolicyOnCloseDoesNotAllocate(t *testing.T) {
	p, err := NewPolicy(profile.Reconnect{OnClose: map[string]string{"3001": "stop"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	codes := []int{1000, 1006, 1012, 3001, 4000}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		p.OnClose(codes[i%len(codes)])
		i++
	})
	if allocs != 0 {
		t.Errorf("OnClose allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkPolicyOnClose(b *testing.B) {
	p, err := NewPolicy(profile.Reconnect{OnClose: map[string]string{"3001": "stop", "4000": "reconnect"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	codes := []int{1000, 1001, 1006, 1012, 1013, 3001, 4000, 4500}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		p.OnClose(codes[i&7])
		i++
	}
}

// TestPolicyAgreesWithProfile checks that the profile's reading of the
// close-code policy, which its checks use, is the fleet's for every code.
func TestPolicyAgreesWithProfile(t *testing.T) {
	for _, r := range []profile.Reconnect{
		{},
		{OnCloseDefault: "stop", OnClose: map[string]string{"1012": "stop", "4000": "reconnect"}},
	} {
		pol, err := NewPolicy(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := profile.Fleet{Reconnect: r}
		for code := 1000; code <= 4999; code++ {
			if got, want := f.OnCloseOf(code), pol.OnClose(code).String(); got != want {
				t.Errorf("%+v: code %d: profile says %s, the fleet %s", r, code, got, want)
			}
		}
	}
}
