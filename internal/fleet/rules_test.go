package fleet

import (
	"testing"
	"time"

	"github.com/wsstorm/wsstorm/internal/backoff"
	"github.com/wsstorm/wsstorm/internal/profile"
)

func TestStartOffset(t *testing.T) {
	for _, c := range []struct {
		ramp time.Duration
		i, n int
		want time.Duration
	}{
		{5 * time.Second, 0, 2000, 0},
		{5 * time.Second, 1000, 2000, 2500 * time.Millisecond},
		{5 * time.Second, 1999, 2000, 4997500 * time.Microsecond},
		{0, 10, 20, 0},
		// ramp·i passes 2^63 ns: a day's ramp and a million clients.
		{24 * time.Hour, 999_999, 1_000_000, 24*time.Hour - 86400*time.Microsecond},
		{3 * time.Hour, 500_000, 1_000_000, 90 * time.Minute},
	} {
		if got := StartOffset(c.ramp, c.i, c.n); got != c.want {
			t.Errorf("StartOffset(%v, %d, %d) = %v, want %v", c.ramp, c.i, c.n, got, c.want)
		}
	}
}

// rulesFor returns the rules of a reconnect section, failing the test on
// an error.
func rulesFor(t *testing.T, r profile.Reconnect) Rules {
	t.Helper()
	p := &profile.Profile{}
	p.Fleet.Reconnect = r
	rl, err := RulesFromProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	return rl
}

// The rules draw what the client's run loop always drew, in its order: after
// a close the backoff of attempt 1, then the first delay; after each failed
// attempt the backoff of the next attempt from the previous delay; nothing
// when the client stops or gives up.
func TestRulesDrawOrder(t *testing.T) {
	r := profile.Reconnect{
		Strategy: "decorrelated_jitter", Base: profile.Dur(100 * time.Millisecond), Cap: profile.Dur(10 * time.Second),
		FirstDelay: profile.Dur(300 * time.Millisecond), MaxAttempts: 3, HonorRetryAfter: true,
		OnClose: map[string]string{"1000": "stop"},
	}
	rl := rulesFor(t, r)
	b, err := NewBackoff(r)
	if err != nil {
		t.Fatal(err)
	}
	got, ref := ClientRand(9, 4), ClientRand(9, 4)
	var retry Retry

	// A 1000 close: stop, and no draw.
	if d := rl.AfterClose(&retry, 0, 1000, got); !d.Stop || d.Wait != 0 || d.GaveUp {
		t.Fatalf("after 1000: %+v; want a stop", d)
	}
	// A 1012 close: Delay(1, 0), then the first delay.
	d1 := b.Delay(1, 0, ref)
	want := d1 + backoff.FirstDelay(300*time.Millisecond, ref)
	if d := rl.AfterClose(&retry, 0, 1012, got); d.Stop || d.Wait != want {
		t.Fatalf("after 1012: %+v; want %v", d, want)
	}
	// Failed attempts 1 and 2: Delay(2, d1), Delay(3, d2); a Retry-After
	// longer than the backoff wins, up to the cap.
	retry.Attempt(0)
	d2 := b.Delay(2, d1, ref)
	if d := rl.AfterFailure(&retry, 0, 503, 0, got); d.Stop || d.Wait != d2 {
		t.Fatalf("after failure 1: %+v; want %v", d, d2)
	}
	retry.Attempt(0)
	d3 := b.Delay(3, d2, ref)
	if d := rl.AfterFailure(&retry, 0, 503, time.Hour, got); d.Stop || d.Wait != 10*time.Second {
		t.Fatalf("after failure 2 with Retry-After 1h: %+v; want the 10s cap (backoff %v)", d, d3)
	}
	// Failed attempt 3 of max_attempts 3: give up, no draw.
	retry.Attempt(0)
	if d := rl.AfterFailure(&retry, 0, 0, 0, got); !d.Stop || !d.GaveUp {
		t.Fatalf("after max_attempts: %+v; want a give-up", d)
	}
	if g, w := got.Uint64(), ref.Uint64(); g != w {
		t.Errorf("the streams parted: the rules drew in another order or more than the client did")
	}
	// A connection resets the sequence: the next failure is attempt 1's.
	retry.Connected(0)
	retry.Attempt(0)
	ref2, got2 := ClientRand(9, 5), ClientRand(9, 5)
	if d := rl.AfterFailure(&retry, 0, 0, 0, got2); d.Wait != b.Delay(2, 0, ref2) {
		t.Errorf("after a connection, the first failure waited %v, want Delay(2, 0)", d.Wait)
	}
}

// Retry-After is honoured only when asked to, and never past the cap.
func TestRulesRetryAfter(t *testing.T) {
	base := profile.Reconnect{Strategy: "constant", Base: profile.Dur(200 * time.Millisecond)}
	for _, c := range []struct {
		honor      bool
		cap        time.Duration
		retryAfter time.Duration
		want       time.Duration
	}{
		{true, 0, 3 * time.Second, 3 * time.Second},
		{true, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{true, 0, time.Hour, 30 * time.Second}, // the default cap
		{true, 2 * time.Second, 3 * time.Second, 2 * time.Second},
		{false, 0, 3 * time.Second, 200 * time.Millisecond},
	} {
		r := base
		r.HonorRetryAfter, r.Cap = c.honor, profile.Dur(c.cap)
		rl := rulesFor(t, r)
		var retry Retry
		retry.Attempt(0)
		if d := rl.AfterFailure(&retry, 0, 503, c.retryAfter, ClientRand(1, 1)); d.Stop || d.Wait != c.want {
			t.Errorf("honor %v, cap %v, Retry-After %v: waited %+v, want %v", c.honor, c.cap, c.retryAfter, d, c.want)
		}
	}
}
