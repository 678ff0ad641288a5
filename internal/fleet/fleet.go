package fleet

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
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
	Header           http.Header // sent with every handshake
	TLS              *tls.Config // for wss:// URLs; nil: verify against the system roots
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
	HonorRetryAfter  bool          // wait at least a 503's Retry-After, up to RetryAfterCap
	RetryAfterCap    time.Duration // longest Retry-After honoured (0: no limit)
	Seed             uint64
	ReadLimit        int64         // largest message accepted; larger fails with 1009 (0: 1 MiB)
	WriteTimeout     time.Duration // a message write blocked longer fails the connection (0: 5s)
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
	header := http.Header{}
	for k, v := range p.Target.Headers {
		header.Set(k, v)
	}
	url, err = credentialsToHeader(url, header)
	if err != nil {
		return Config{}, err
	}
	tlsConf, err := tlsConfig(p.Target.TLS)
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
		RetryAfterCap:    cmp.Or(f.Reconnect.Cap.D(), defaultRetryAfterCap),
		Seed:             p.Seed,
		ReadLimit:        int64(f.ReadLimit),
		WriteTimeout:     f.WriteTimeout.D(),
		Header:           header,
		TLS:              tlsConf,
	}, nil
}

// credentialsToHeader moves user:password@ out of a ws:// URL (WebSocket URIs
// have no credentials, and gorilla/websocket refuses them) into an
// Authorization: Basic header, unless the profile sets one itself.
func credentialsToHeader(raw string, header http.Header) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("target.url: %w", err)
	}
	if u.User == nil {
		return raw, nil
	}
	if header.Get("Authorization") == "" {
		pass, _ := u.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pass))
		header.Set("Authorization", "Basic "+cred)
	}
	u.User = nil
	return u.String(), nil
}

// tlsConfig builds the TLS configuration of wss:// dials: certificates are
// verified (against the system roots plus ca_file) unless the profile turns
// verification off explicitly.
func tlsConfig(t profile.TLS) (*tls.Config, error) {
	conf := &tls.Config{ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("target.tls.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("target.tls.ca_file %s: no PEM certificate in it", t.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// defaultRetryAfterCap bounds an honoured Retry-After when reconnect.cap is 0.
const defaultRetryAfterCap = 30 * time.Second

// dialAbortKey carries a dial's *dialAbort to netDial through the context.
type dialAbortKey struct{}

// dialAbort lets a dial's handshake be cut short: abort closes its
// connection, once there is one (a deadline could be reset by gorilla's own
// SetDeadline right after the TCP connect).
type dialAbort struct {
	mu      sync.Mutex
	conn    net.Conn
	aborted bool
}

// attach records the dial's connection; false if the dial was aborted first.
func (a *dialAbort) attach(c net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = c
	return !a.aborted
}

func (a *dialAbort) abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.aborted = true
	if a.conn != nil {
		_ = a.conn.Close()
	}
}

// netDial opens the TCP connection of a handshake and hands it to the dial's
// dialAbort.
func netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if a, ok := ctx.Value(dialAbortKey{}).(*dialAbort); ok && !a.attach(c) {
		c.Close()
		return nil, context.Canceled
	}
	return c, nil
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
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	return &Fleet{
		cfg: cfg,
		rec: rec,
		dialer: &websocket.Dialer{
			NetDialContext:   netDial,
			HandshakeTimeout: cfg.HandshakeTimeout,
			TLSClientConfig:  cfg.TLS,
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
