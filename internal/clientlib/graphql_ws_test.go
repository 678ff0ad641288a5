package clientlib

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixedSource returns one value for ever: Float64 of a rand.Rand on it is
// (v mod 2^53) / 2^53.
type fixedSource uint64

func (f fixedSource) Uint64() uint64 { return uint64(f) }

func buildGraphQLWS(t *testing.T, edit func(*GraphQLWSOptions)) Preset {
	t.Helper()
	return build(t, graphqlWS{}, edit)
}

func TestGraphQLWSRetryWaitKnownDraws(t *testing.T) {
	p := buildGraphQLWS(t, nil)
	for _, c := range []struct {
		src  uint64
		want []time.Duration // retries 0..4
	}{
		{0, []time.Duration{1300, 2300, 4300, 8300, 16300}},                    // Math.random() 0
		{1 << 52, []time.Duration{2650, 3650, 5650, 9650, 17650}},              // 0.5: floor(1350 + 300)
		{1<<53 - 1, []time.Duration{3999, 4999, 6999, 10999, 18999}},           // just under 1: floor(2999.99…)
		{1 << 51, []time.Duration{1975, 2975, 4975, 8975, 16975}},              // 0.25: floor(675 + 300)
		{(1 << 53) / 3, []time.Duration{2199, 3199, 5199, 9199, 17199}},        // ⅓: floor(899.99… + 300)
		{(1 << 53) / 2700 * 7, []time.Duration{1306, 2306, 4306, 8306, 16306}}, // 7/2700 less a hair
	} {
		rng := rand.New(fixedSource(c.src))
		cl := p.NewClient(rng)
		cl.Opened(0)
		for i, w := range c.want {
			if n := cl.Closed(0, 1012, rng); n.Wait != w*time.Millisecond {
				t.Fatalf("Float64 %v, retry %d: waited %s, want %d ms", rand.New(fixedSource(c.src)).Float64(), i, n.Wait, w)
			}
		}
	}
}

func TestGraphQLWSRetryWaitBounds(t *testing.T) {
	p := buildGraphQLWS(t, nil)
	lo, hi := [5]time.Duration{}, [5]time.Duration{}
	for seed := range uint64(20000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		c := p.NewClient(rng)
		c.Opened(0)
		for i := range 5 {
			w := c.Closed(0, 1006, rng).Wait
			base := time.Duration(1<<i) * time.Second
			if w < base+300*time.Millisecond || w > base+2999*time.Millisecond || w%time.Millisecond != 0 {
				t.Fatalf("retry %d waited %s: want whole ms in [%s, %s]", i, w, base+300*time.Millisecond, base+2999*time.Millisecond)
			}
			if seed == 0 || w < lo[i] {
				lo[i] = w
			}
			hi[i] = max(hi[i], w)
		}
	}
	for i := range 5 {
		base := time.Duration(1<<i) * time.Second
		if lo[i] > base+305*time.Millisecond || hi[i] < base+2994*time.Millisecond {
			t.Errorf("retry %d: 20000 draws span [%s, %s]: the jitter does not fill 300–2999 ms", i, lo[i], hi[i])
		}
	}
}

func TestGraphQLWSCloseCodes(t *testing.T) {
	p := buildGraphQLWS(t, nil)
	fatal := map[int]bool{}
	for _, c := range []int{1002, 1003, 1004, 1007, 1008, 1009, 1010, 1011, 1015, 1016, 1999, 4004, 4005, 4400, 4401, 4406, 4409, 4429, 4500} {
		fatal[c] = true
	}
	codes := []int{999, 1000, 1001, 1005, 1006, 1012, 1013, 1014, 2000, 3000, 3999, 4000, 4403, 4408, 4499, 4504, 4999}
	for c := range fatal {
		codes = append(codes, c)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, code := range codes {
		c := p.NewClient(rng)
		c.Opened(0)
		n := c.Closed(time.Second, code, rng)
		switch {
		case fatal[code]:
			if !n.Stop || n.GaveUp || !strings.Contains(n.Reason, "close code") {
				t.Errorf("close %d = %+v, want stopped: the code is fatal", code, n)
			}
		case code == 1000:
			if n.Stop || n.Wait != 0 {
				t.Errorf("close 1000 = %+v, want a reconnect at once", n)
			}
		default:
			if n.Stop || n.Wait < 1300*time.Millisecond || n.Wait > 3999*time.Millisecond {
				t.Errorf("close %d = %+v, want a retry after 1300–3999 ms", code, n)
			}
		}
	}
	c := p.NewClient(rng)
	c.Opened(0)
	if n := c.Closed(time.Second, 4400, rng); n.Reason != "graphql-ws: close code 4400 is fatal" {
		t.Errorf("4400's reason = %q", n.Reason)
	}
}

func TestGraphQLWSNormalClosure(t *testing.T) {
	p := buildGraphQLWS(t, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	c := p.NewClient(rng)
	// After each ack, a 1000 close comes back at once and counts nothing:
	// many in a row never reach retryAttempts.
	for i := range 10 {
		c.Opened(time.Duration(i) * time.Second)
		if n := c.Closed(time.Duration(i)*time.Second+time.Millisecond, 1000, rng); n.Stop || n.Wait != 0 {
			t.Fatalf("1000 close #%d = %+v, want at once", i, n)
		}
	}
	// While retrying (a 1000 before the ack), it waits retryWait and
	// counts, past retryAttempts too: the 1000 path skips the limit.
	c.Opened(20 * time.Second)
	c.Closed(21*time.Second, 1012, rng) // retries 0 → 1
	for i := 1; i <= 7; i++ {
		n := c.Closed(22*time.Second, 1000, rng)
		base := time.Duration(1<<i) * time.Second
		if n.Stop || n.Wait < base+300*time.Millisecond || n.Wait > base+2999*time.Millisecond {
			t.Fatalf("1000 while retrying, retries %d: %+v, want retryWait(%d)", i, n, i)
		}
	}
}

func TestGraphQLWSAttemptLimitAndReset(t *testing.T) {
	p := buildGraphQLWS(t, nil)
	rng := rand.New(rand.NewPCG(7, 8))
	c := p.NewClient(rng)
	c.Opened(0)
	for range 3 {
		c.Closed(0, 1012, rng)
	}
	// An ack resets the count: the next retry waits retryWait(0) again.
	c.Opened(time.Minute)
	if n := c.Closed(time.Minute+time.Millisecond, 1001, rng); n.Wait > 3999*time.Millisecond {
		t.Fatalf("after an ack: %+v, want retryWait(0)", n)
	}
	for range 4 {
		if n := c.Closed(0, 1012, rng); n.Stop {
			t.Fatalf("stopped before 5 retries: %+v", n)
		}
	}
	n := c.Closed(0, 1012, rng)
	if !n.Stop || !n.GaveUp || n.Reason != "graphql-ws: retryAttempts (5) reached" {
		t.Fatalf("after 5 retries: %+v, want given up", n)
	}
}

func TestGraphQLWSConnectErrors(t *testing.T) {
	// The default shouldRetry ends the client at a connect that never
	// opens, the very first one too.
	p := buildGraphQLWS(t, nil)
	if p.ConnectTimeout() != 0 {
		t.Fatalf("ConnectTimeout = %s, want none", p.ConnectTimeout())
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, status := range []int{503, 0} {
		c := p.NewClient(rng)
		c.Attempt(0)
		if n := c.Failed(time.Millisecond, status, rng); !n.Stop || n.GaveUp || !strings.Contains(n.Reason, "shouldRetry") {
			t.Fatalf("first connect failed (%d): %+v, want stopped by shouldRetry", status, n)
		}
	}
	c := p.NewClient(rng)
	c.Opened(0)
	c.Closed(time.Second, 1012, rng)
	c.Attempt(3 * time.Second)
	if n := c.Failed(3*time.Second, 503, rng); !n.Stop {
		t.Fatalf("a refused retry: %+v, want stopped", n)
	}

	// shouldRetry always: refusals are retried like closes, 5 times.
	p = buildGraphQLWS(t, func(o *GraphQLWSOptions) { o.ShouldRetry = "always" })
	c = p.NewClient(rng)
	c.Attempt(0)
	for i := range 5 {
		n := c.Failed(0, 503, rng)
		base := time.Duration(1<<i) * time.Second
		if n.Stop || n.Wait < base+300*time.Millisecond || n.Wait > base+2999*time.Millisecond {
			t.Fatalf("refusal %d with shouldRetry always: %+v", i, n)
		}
	}
	if n := c.Failed(0, 503, rng); !n.GaveUp {
		t.Fatalf("6th refusal: %+v, want given up", n)
	}
}

func TestGraphQLWSAckTimeout(t *testing.T) {
	p := buildGraphQLWS(t, func(o *GraphQLWSOptions) { o.ConnectionAckWaitTimeout = 3000 })
	if p.ConnectTimeout() != 3*time.Second {
		t.Fatalf("ConnectTimeout = %s, want 3s", p.ConnectTimeout())
	}
	rng := rand.New(rand.NewPCG(11, 12))
	c := p.NewClient(rng)
	c.Attempt(10 * time.Second)
	// Timed out: the library's own 4504 close, which it retries.
	if n := c.Failed(13*time.Second, 0, rng); n.Stop || n.Wait < 1300*time.Millisecond {
		t.Fatalf("ack timeout: %+v, want a retry", n)
	}
	c.Attempt(20 * time.Second)
	if n := c.Failed(20*time.Second+time.Millisecond, 0, rng); !n.Stop {
		t.Fatalf("a refusal before the timeout: %+v, want stopped", n)
	}
	if p := buildGraphQLWS(t, func(o *GraphQLWSOptions) { o.ConnectionAckWaitTimeout = math.Inf(1) }); p.ConnectTimeout() != 0 {
		t.Fatalf("connectionAckWaitTimeout inf: ConnectTimeout %s, want none", p.ConnectTimeout())
	}
}

func TestGraphQLWSRetryAttemptsOption(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	p := buildGraphQLWS(t, func(o *GraphQLWSOptions) { o.RetryAttempts = 0 })
	c := p.NewClient(rng)
	c.Opened(0)
	if n := c.Closed(time.Second, 1012, rng); !n.GaveUp {
		t.Fatalf("retryAttempts 0, close 1012: %+v, want given up", n)
	}
	c.Opened(2 * time.Second)
	if n := c.Closed(3*time.Second, 1000, rng); n.Stop || n.Wait != 0 {
		t.Fatalf("retryAttempts 0, close 1000: %+v, want at once", n)
	}
	c.Opened(4 * time.Second)
	if n := c.Away(5*time.Second, false, rng); n.Stop || n.Wait != 0 {
		t.Fatalf("retryAttempts 0, Away: %+v, want back at once (the 1000 way)", n)
	}

	p = buildGraphQLWS(t, func(o *GraphQLWSOptions) { o.RetryAttempts = math.Inf(1) })
	c = p.NewClient(rng)
	c.Opened(0)
	for i := range 15 {
		if n := c.Closed(0, 1012, rng); n.Stop || n.Wait < time.Duration(1<<i)*time.Second {
			t.Fatalf("retryAttempts inf, retry %d: %+v", i, n)
		}
	}
}

func TestGraphQLWSAway(t *testing.T) {
	p := buildGraphQLWS(t, nil)
	rng := rand.New(rand.NewPCG(15, 16))
	c := p.NewClient(rng)
	c.Opened(0)
	if n := c.Away(time.Second, true, rng); n.Stop || n.Wait != 0 {
		t.Fatalf("Away now: %+v, want at once", n)
	}
	c.Opened(2 * time.Second)
	if n := c.Away(3*time.Second, false, rng); n.Stop || n.Wait < 1300*time.Millisecond || n.Wait > 3999*time.Millisecond {
		t.Fatalf("Away later: %+v, want retryWait(0)", n)
	}
}

// TestGraphQLWSLazy: a client holding a subscription reconnects alike,
// lazy or not.
func TestGraphQLWSLazy(t *testing.T) {
	lazy := buildGraphQLWS(t, nil)
	eager := buildGraphQLWS(t, func(o *GraphQLWSOptions) { o.Lazy = false })
	for seed := range uint64(10) {
		if a, b := play(lazy, seed), play(eager, seed); !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: lazy %+v, non-lazy %+v", seed, a, b)
		}
	}
}

func TestGraphQLWSBuildRejects(t *testing.T) {
	l := graphqlWS{}
	for _, c := range []struct {
		edit func(*GraphQLWSOptions)
		want string
	}{
		{func(o *GraphQLWSOptions) { o.RetryAttempts = -1 }, "retryAttempts: is -1"},
		{func(o *GraphQLWSOptions) { o.RetryAttempts = math.NaN() }, "retryAttempts: is NaN"},
		{func(o *GraphQLWSOptions) { o.ConnectionAckWaitTimeout = -5 }, "connectionAckWaitTimeout: is -5"},
		{func(o *GraphQLWSOptions) { o.ShouldRetry = "sometimes" }, `shouldRetry: is "sometimes"`},
	} {
		o := l.Options().(*GraphQLWSOptions)
		c.edit(o)
		if _, err := l.Build(o); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Build = %v, want an error starting %q", err, c.want)
		}
	}
}
