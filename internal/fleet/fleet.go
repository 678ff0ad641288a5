package fleet

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/bits"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/semaphore"

	"github.com/wsstorm/wsstorm/internal/dialabort"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
)

// Config is a fleet's behaviour; FromProfile builds one from a profile.
type Config struct {
	// URL is where clients connect. It may hold template variables:
	// {{client}} (the client's index, from 0), {{session}} (the number of
	// the connection the attempt opens, from 1), {{key}} and {{uuid}}
	// (derived from Seed and the client, the same in every session), {{seq}}
	// (the attempt's number, from 1). user:password@ is sent as Basic
	// authorization.
	URL string
	// URLs, when set, replace URL: client i connects to URLs[i % len(URLs)].
	URLs         []string
	Header       http.Header // sent with every handshake
	Subprotocols []string    // offered in Sec-WebSocket-Protocol, in order
	TLS          *tls.Config // for wss:// URLs; nil: verify against the system roots
	Clients      int
	// Segment and Segments select a share of the fleet: this fleet runs the
	// clients whose index ≡ Segment mod Segments (Segments 0: all of them).
	// Indexes, start times and seeds are those of the whole fleet, so the
	// segments together behave as the whole.
	Segment, Segments int
	// SourceAddrs are the local addresses clients connect from: client i
	// uses SourceAddrs[i % len]; none: the OS picks.
	SourceAddrs      []netip.Addr
	Ramp             time.Duration // clients start evenly over this window
	MaxDialing       int           // dials in flight at once, over the whole fleet
	HandshakeTimeout time.Duration // TCP connect plus WebSocket handshake
	// PingInterval is how often a connected client pings (0: never). A ping
	// unanswered for PongTimeout ends the connection as a 1006 close.
	PingInterval time.Duration
	// PongTimeout is how long a ping waits for its pong, on a timer of its
	// own (0: HandshakeTimeout, or DefaultPongTimeout when that is 0 too):
	// a server that stops answering is found dead between PongTimeout and
	// PingInterval+PongTimeout after it stopped.
	PongTimeout  time.Duration
	SendInterval time.Duration // 0: send nothing
	PayloadBytes int           // binary messages: at least 8, the first 8 carry the scheduled send time
	// Message is the template of each periodic text message ({{seq}}: the
	// message's number in the session, from 1, script messages included);
	// "": PayloadBytes of binary carrying the send time.
	Message string
	// NoEcho says the server does not echo the periodic messages: no
	// message_rtt, every message received is counted as received.
	NoEcho bool
	// NodeFromHeader says the X-Wsstorm-Node header of the handshake names
	// the node a connection is on: true behind wsstorm's own chaos proxy,
	// whose nodes are the run's. Elsewhere a proxy's node is not the node a
	// hook restarts, and the header is ignored.
	NodeFromHeader bool
	// Script is what a client does on each new connection before its
	// periodic messages start. If a step waits for a message, the connect
	// attempt succeeds only once the script is through, and recovery ends
	// at the last expected message.
	Script []ScriptStep
	// Replies are rules that run for the life of each connection, in
	// order: answers to the server's messages, and its messages that end
	// the session (a protocol's disconnect).
	Replies []Reply
	// Heartbeat is a message a connected client sends every interval on
	// its own (Phoenix's heartbeat); Interval 0: none.
	Heartbeat Heartbeat
	Lifetime  time.Duration // 0: sessions last until the server ends them; counted from the end of the script
	Pause     time.Duration // after a session the client ended, before the next
	// Rules decide whether and when a client dials again.
	Rules
	Seed         uint64
	ReadLimit    int64         // largest message accepted; larger fails with 1009 (0: 1 MiB)
	WriteTimeout time.Duration // a message write blocked longer fails the connection (0: 5s)
	CloseTimeout time.Duration // wait for the server's close reply when the client closes (0: 1s)
}

// DefaultPongTimeout is how long a ping waits for its pong when neither
// the pong timeout nor the handshake timeout is set.
const DefaultPongTimeout = 5 * time.Second

// ScriptStep is one step of a session script: send a message, then wait
// for one (either may be left out).
type ScriptStep struct {
	Send        string         // a text message, a template as Config.Message; or
	SendBinary  []byte         // a binary message (nil: none)
	Expect      string         // wait for a message that contains this, a template; or
	ExpectRegex *regexp.Regexp // for one that matches this
	// Reject (a substring) or RejectRegex name the server's refusal: the
	// wait ends, and the attempt fails as "rejected".
	Reject      string
	RejectRegex *regexp.Regexp
	Timeout     time.Duration // how long to wait; then the client closes with 1008 and retries
}

// Heartbeat is a message a connected client sends on its own every
// Interval, a template as Config.Message.
type Heartbeat struct {
	Interval time.Duration
	Send     string
}

// FromProfile returns the fleet configuration of a validated profile; url is
// where the clients connect (the embedded target's or the proxy's address,
// or target.url), unless an external target lists target.urls. It reads the
// script's send_file files.
func FromProfile(p *profile.Profile, url string) (Config, error) {
	rules, err := RulesFromProfile(p)
	if err != nil {
		return Config{}, err
	}
	header := http.Header{}
	for k, v := range p.Target.Headers {
		header.Set(k, v)
	}
	if len(p.Target.Subprotocols) > 0 && header.Get("Sec-WebSocket-Protocol") != "" {
		return Config{}, fmt.Errorf("target.headers.Sec-WebSocket-Protocol and target.subprotocols are both set: offer the subprotocols with subprotocols alone")
	}
	if p.Target.Origin != "" {
		header.Set("Origin", p.Target.Origin)
	}
	tlsConf, err := tlsConfig(p.Target.TLS)
	if err != nil {
		return Config{}, err
	}
	var urls []string
	if p.Target.Mode == profile.ModeExternal && len(p.Target.URLs) > 0 {
		urls = p.Target.URLs
	}
	script, err := scriptFromProfile(p.Fleet.Session.Script)
	if err != nil {
		return Config{}, err
	}
	f := p.Fleet
	sources, err := profile.ParseSourceAddrs(f.SourceAddrs)
	if err != nil {
		return Config{}, fmt.Errorf("fleet.source_addrs: %w", err)
	}
	cfg := Config{
		SourceAddrs:      sources,
		URL:              url,
		URLs:             urls,
		Clients:          f.Clients,
		Ramp:             f.Ramp.D(),
		MaxDialing:       f.MaxDialing,
		HandshakeTimeout: f.ConnectTimeout(), // a client preset's own, or none
		PingInterval:     f.PingInterval.D(),
		PongTimeout:      f.PongWait(), // wsstorm's pings, not the library's: never its connect timeout
		SendInterval:     f.Session.SendInterval.D(),
		PayloadBytes:     f.Session.PayloadBytes,
		Message:          f.Session.Message,
		NoEcho:           !f.Session.Echo,
		NodeFromHeader:   p.Target.Mode == profile.ModeProxy,
		Script:           script,
		Lifetime:         f.Session.Lifetime.D(),
		Pause:            f.Session.Pause.D(),
		Rules:            rules,
		Seed:             p.Seed,
		ReadLimit:        int64(f.ReadLimit),
		WriteTimeout:     f.WriteTimeout.D(),
		Header:           header,
		Subprotocols:     p.Target.Subprotocols,
		TLS:              tlsConf,
	}
	return cfg, withSession(&cfg, p)
}

// scriptFromProfile reads a profile's [[fleet.session.script]], the files
// of send_file included.
func scriptFromProfile(steps []profile.ScriptStep) ([]ScriptStep, error) {
	var out []ScriptStep
	for i, s := range steps {
		st := ScriptStep{Send: s.Send, Expect: s.Expect, Timeout: s.Timeout.D()}
		if s.SendFile != "" {
			data, err := os.ReadFile(s.SendFile)
			if err != nil {
				return nil, fmt.Errorf("fleet.session.script.%d.send_file: %w", i, err)
			}
			if data == nil {
				data = []byte{} // an empty file is an empty binary message
			}
			st.SendBinary = data
		}
		if s.ExpectRegex != "" {
			re, err := regexp.Compile(s.ExpectRegex)
			if err != nil {
				return nil, fmt.Errorf("fleet.session.script.%d.expect_regex: %w", i, err)
			}
			st.ExpectRegex = re
		}
		out = append(out, st)
	}
	return out, nil
}

// credentialsToHeader moves user:password@ out of a ws:// URL (WebSocket URIs
// have no credentials, and gorilla/websocket refuses them) into an
// Authorization: Basic header, unless the profile sets one itself. It edits
// the text rather than a parsed URL, which would escape the braces of
// template variables elsewhere in it.
func credentialsToHeader(raw string, header http.Header) (string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw, nil
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return raw, nil
	}
	if strings.Contains(authority[:at], "{{") {
		return "", fmt.Errorf("target.url: template variables in user:password@ are not supported: send per-client credentials in the query or a message")
	}
	u, err := neturl.Parse(scheme + "://" + authority + "/")
	if err != nil {
		return "", fmt.Errorf("target.url: %w", err)
	}
	if header.Get("Authorization") == "" {
		pass, _ := u.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pass))
		header.Set("Authorization", "Basic "+cred)
	}
	return scheme + "://" + rest[at+1:], nil
}

// tlsConfig builds the TLS configuration of wss:// dials: certificates are
// verified (against the system roots plus ca_file) unless the profile turns
// verification off explicitly; a client certificate is presented to servers
// that ask for one.
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
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("target.tls.cert_file and key_file: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// Fleet is a set of clients sharing a dialer and a cap on dials in flight.
type Fleet struct {
	cfg    Config
	rec    *stats.Recorder
	dialer *websocket.Dialer
	dials  *semaphore.Weighted
	// endpoints are the URLs clients connect to: client i uses
	// endpoints[i % len(endpoints)].
	endpoints []endpoint
	// replies are the compiled reply rules; nil: none.
	replies *replies
	// heartbeat is the heartbeat's template (Config.Heartbeat.Send).
	heartbeat template
	// padding fills each binary message after its stamp; shared and read-only.
	padding []byte
	// message is the periodic text message's template; nil: binary messages.
	message *template
	script  []scriptStep
	// scriptWaits says a script step waits for a message: a connect
	// attempt succeeds once the script is through.
	scriptWaits bool
	// closing tracks connections waiting for the server to close TCP.
	closing sync.WaitGroup
	// live are the sessions in progress, which the run's end closes.
	live liveSessions
	// readBufs lend read loops their *readBuffers, one message at a time.
	readBufs sync.Pool
	// runners run the clients' connect attempts.
	runners attemptRunners
	// sources are the dialers of fleet.source_addrs; nil: the OS picks.
	sources []*net.Dialer
}

// endpoint is one URL of the fleet and the header its handshakes carry.
type endpoint struct {
	url       template
	static    string // the URL when it has no template variables
	templated bool   // the URL is rendered per attempt
	header    http.Header
}

// New returns a fleet that records into rec.
func New(cfg Config, rec *stats.Recorder) (*Fleet, error) {
	switch {
	case cfg.Clients < 1:
		return nil, fmt.Errorf("fleet: %d clients: need at least 1", cfg.Clients)
	case cfg.Backoff == nil || cfg.Policy == nil:
		return nil, fmt.Errorf("fleet: a backoff and a close-code policy are required")
	case cfg.SendInterval > 0 && cfg.Message == "" && cfg.PayloadBytes < stampBytes:
		return nil, fmt.Errorf("fleet: payload of %d bytes: need at least %d to carry the send time", cfg.PayloadBytes, stampBytes)
	case cfg.PingInterval < 0:
		return nil, fmt.Errorf("fleet: ping interval %v is negative", cfg.PingInterval)
	case cfg.PongTimeout < 0:
		return nil, fmt.Errorf("fleet: pong timeout %v is negative", cfg.PongTimeout)
	case cfg.Segments < 0 || cfg.Segments > 0 && (cfg.Segment < 0 || cfg.Segment >= cfg.Segments):
		return nil, fmt.Errorf("fleet: segment %d of %d: need 0 ≤ segment < segments", cfg.Segment, cfg.Segments)
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
	cfg.PongTimeout = cmp.Or(cfg.PongTimeout, cfg.HandshakeTimeout, DefaultPongTimeout)
	f := &Fleet{
		cfg: cfg,
		rec: rec,
		dialer: &websocket.Dialer{
			NetDialContext:   gatherRequests(dialabort.NetDial),
			HandshakeTimeout: cfg.HandshakeTimeout,
			TLSClientConfig:  cfg.TLS,
			Subprotocols:     cfg.Subprotocols,
			ReadBufferSize:   readBufferSize(&cfg),
			WriteBufferSize:  1024,
			WriteBufferPool:  &sync.Pool{},
		},
		dials:   semaphore.NewWeighted(int64(cfg.MaxDialing)),
		sources: sourceDialers(cfg.SourceAddrs),
	}
	urls := cfg.URLs
	if len(urls) == 0 {
		urls = []string{cfg.URL}
	}
	for _, raw := range urls {
		header := cfg.Header
		if header == nil {
			header = http.Header{}
		}
		header = header.Clone()
		u, err := credentialsToHeader(raw, header)
		if err != nil {
			return nil, err
		}
		t, err := parseTemplate(u)
		if err != nil {
			return nil, fmt.Errorf("target.url: %w", err)
		}
		static, ok := t.Static()
		f.endpoints = append(f.endpoints, endpoint{url: t, static: static, templated: !ok, header: header})
	}
	if cfg.Message != "" {
		t, err := parseTemplate(cfg.Message)
		if err != nil {
			return nil, fmt.Errorf("fleet.session.message: %w", err)
		}
		f.message = &t
	} else {
		f.padding = make([]byte, max(cfg.PayloadBytes-stampBytes, 0))
	}
	for i, s := range cfg.Script {
		st, err := compileStep(s)
		if err != nil {
			return nil, fmt.Errorf("fleet.session.script.%d: %w", i, err)
		}
		f.scriptWaits = f.scriptWaits || st.waits()
		f.script = append(f.script, st)
	}
	var err error
	if f.replies, err = newReplies(cfg.Replies); err != nil {
		return nil, fmt.Errorf("fleet.session.%w", err)
	}
	if cfg.Heartbeat.Interval > 0 {
		if f.heartbeat, err = parseTemplate(cfg.Heartbeat.Send); err != nil {
			return nil, fmt.Errorf("fleet.session.heartbeat.send: %w", err)
		}
	}
	return f, nil
}

// Run starts the clients evenly over the ramp and returns once every client
// has stopped: by its close-code policy, by giving up, or because ctx ended
// (clients then close their sessions with 1001, going away). A Fleet runs
// once.
func (f *Fleet) Run(ctx context.Context) {
	var wg sync.WaitGroup
	// The ramp runs on the recorder's clock: segments in other processes
	// share its origin.
	start := f.rec.Start()
	n := f.cfg.Clients
	first, step := 0, 1
	if f.cfg.Segments > 0 {
		first, step = f.cfg.Segment, f.cfg.Segments
	}
	for i := first; i < n; {
		elapsed := time.Since(start)
		// Launch every client whose start time has come.
		for ; i < n && StartOffset(f.cfg.Ramp, i, n) <= elapsed; i += step {
			c := newClient(f, i)
			wg.Go(func() { c.run(ctx) })
		}
		if i < n && !sleep(ctx, StartOffset(f.cfg.Ramp, i, n)-elapsed) {
			break
		}
	}
	wg.Wait()
	f.closing.Wait()
}

// StartOffset is when client i of n starts, from the run's start: the ramp
// spreads the clients' starts evenly over its length.
func StartOffset(ramp time.Duration, i, n int) time.Duration {
	if ramp <= 0 || i <= 0 || n <= 0 {
		return 0
	}
	// ramp·i/n in 128 bits: a day's ramp times a million clients passes
	// 2^63 ns. The quotient is below ramp, since i < n.
	hi, lo := bits.Mul64(uint64(ramp), uint64(i))
	q, _ := bits.Div64(hi, lo, uint64(n))
	return time.Duration(q)
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
