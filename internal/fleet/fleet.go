package fleet

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/semaphore"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Config is a fleet's behaviour; FromProfile builds one from a profile.
type Config struct {
	URL              string
	Clients          int
	Ramp             time.Duration // clients start evenly over this window
	MaxDialing       int           // dials in flight at once, over the whole fleet
	HandshakeTimeout time.Duration // TCP connect plus WebSocket handshake
	SendInterval     time.Duration // 0: send nothing
	PayloadBytes     int           // at least 8: the first 8 carry the scheduled send time
	Lifetime         time.Duration // 0: sessions last until the server ends them
	Pause            time.Duration // after a session the client ended, before the next
	Backoff          Backoff
	Policy           *Policy
	FirstDelay       time.Duration // upper bound of a random extra wait before the first reconnect attempt
	MaxAttempts      int           // failed attempts in a row before giving up; 0: never
	HonorRetryAfter  bool          // wait at least a 503's Retry-After
	Seed             uint64
	ReadLimit        int64         // largest message accepted (0: 1 MiB)
	CloseTimeout     time.Duration // wait for the server's close reply when the client closes (0: 1s)
}

// FromProfile returns the fleet configuration of a validated profile against url.
func FromProfile(p *profile.Profile, url string) (Config, error) {
	b, err := NewBackoff(p.Fleet.Reconnect)
	if err != nil {
		return Config{}, err
	}
	pol, err := NewPolicy(p.Fleet.Reconnect)
	if err != nil {
		return Config{}, err
	}
	f := p.Fleet
	return Config{
		URL:              url,
		Clients:          f.Clients,
		Ramp:             f.Ramp.D(),
		MaxDialing:       f.MaxDialing,
		HandshakeTimeout: f.HandshakeTimeout.D(),
		SendInterval:     f.Session.SendInterval.D(),
		PayloadBytes:     f.Session.PayloadBytes,
		Lifetime:         f.Session.Lifetime.D(),
		Pause:            f.Session.Pause.D(),
		Backoff:          b,
		Policy:           pol,
		FirstDelay:       f.Reconnect.FirstDelay.D(),
		MaxAttempts:      f.Reconnect.MaxAttempts,
		HonorRetryAfter:  f.Reconnect.HonorRetryAfter,
		Seed:             p.Seed,
	}, nil
}

// Fleet is a set of clients sharing a dialer and a cap on dials in flight.
type Fleet struct {
	cfg    Config
	rec    *stats.Recorder
	dialer *websocket.Dialer
	dials  *semaphore.Weighted
	// padding fills each message after its stamp; shared and read-only.
	padding []byte
	// closing tracks connections waiting for the server to close TCP.
	closing sync.WaitGroup
}

// New returns a fleet that records into rec.
func New(cfg Config, rec *stats.Recorder) (*Fleet, error) {
	switch {
	case cfg.Clients < 1:
		return nil, fmt.Errorf("fleet: %d clients: need at least 1", cfg.Clients)
	case cfg.Backoff == nil || cfg.Policy == nil:
		return nil, fmt.Errorf("fleet: a backoff and a close-code policy are required")
	case cfg.SendInterval > 0 && cfg.PayloadBytes < stampBytes:
		return nil, fmt.Errorf("fleet: payload of %d bytes: need at least %d to carry the send time", cfg.PayloadBytes, stampBytes)
	}
	if cfg.MaxDialing < 1 {
		cfg.MaxDialing = 1
	}
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = 1 << 20
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = time.Second
	}
	return &Fleet{
		cfg: cfg,
		rec: rec,
		dialer: &websocket.Dialer{
			NetDialContext:   (&net.Dialer{}).DialContext,
			HandshakeTimeout: cfg.HandshakeTimeout,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
			WriteBufferPool:  &sync.Pool{},
		},
		dials:   semaphore.NewWeighted(int64(cfg.MaxDialing)),
		padding: make([]byte, max(cfg.PayloadBytes-stampBytes, 0)),
	}, nil
}

// Run starts the clients evenly over the ramp and returns once every client
// has stopped: by its close-code policy, by giving up, or because ctx ended
// (clients then close their sessions with 1001, going away).
func (f *Fleet) Run(ctx context.Context) {
	var wg sync.WaitGroup
	start := time.Now()
	n := f.cfg.Clients
	for i := 0; i < n; {
		elapsed := time.Since(start)
		// Launch every client whose start time has come.
		for ; i < n && time.Duration(int64(f.cfg.Ramp)*int64(i)/int64(n)) <= elapsed; i++ {
			c := newClient(f, i)
			wg.Go(func() { c.run(ctx) })
		}
		if i < n && !sleep(ctx, time.Duration(int64(f.cfg.Ramp)*int64(i)/int64(n))-elapsed) {
			break
		}
	}
	wg.Wait()
	f.closing.Wait()
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
