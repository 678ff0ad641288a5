package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/action"
	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/stats"
	"github.com/wsstorm/wsstorm/internal/target"
)

// The idle-memory measurements run three processes, all this test binary:
// the target, and a measuring process that holds the clients, either the
// fleet's or bare gorilla/websocket ones. Each measures itself, so the
// other side's memory and CPU stay out of its figures.
const (
	childRoleEnv  = "WSSTORM_CHILD_ROLE"  // target | fleet | bare
	childURLEnv   = "WSSTORM_CHILD_URL"   // the target's URL
	childStepsEnv = "WSSTORM_CHILD_STEPS" // ascending client counts, comma-separated
	childDialEnv  = "WSSTORM_CHILD_DIAL"  // dials in flight at once
	// childHerdEnv, "1", has the measuring process take part in a restart
	// herd after each checkpoint; see herd.
	childHerdEnv = "WSSTORM_CHILD_HERD"
	// childSourcesEnv is the number of loopback source addresses clients
	// dial from; 0: the OS picks.
	childSourcesEnv = "WSSTORM_CHILD_SOURCES"
	// childSendEnv is the fleet's clients' send interval (a duration; the
	// target echoes); empty or 0: idle.
	childSendEnv = "WSSTORM_CHILD_SEND"
	// childRepliesEnv, "1", gives the fleet's clients reply rules (a
	// Socket.IO client's: answer the ping, stop on the disconnect packet).
	childRepliesEnv = "WSSTORM_CHILD_REPLIES"

	// idleStepsEnv overrides the checkpoints of BenchmarkIdleRSS, e.g.
	// "500,2000" for a quick run.
	idleStepsEnv = "WSSTORM_IDLE_CLIENTS"
	// idleHerdEnv, "off", leaves out BenchmarkIdleRSS's restart herds.
	idleHerdEnv = "WSSTORM_IDLE_HERD"
	// idleSourcesEnv, a number n, has BenchmarkIdleRSS's clients dial from
	// 127.0.0.1 to 127.0.0.n (fleet.source_addrs), so that no (source,
	// destination) pair holds more than clients/n ports.
	idleSourcesEnv = "WSSTORM_IDLE_SOURCES"
	// idleSendEnv, a duration, has BenchmarkIdleRSS's fleet clients send a
	// 32-byte message at that interval and await its echo; the bare
	// clients stay idle.
	idleSendEnv = "WSSTORM_IDLE_SEND"
)

// idleDialing is the dials in flight at once, for the fleet and bare alike.
const idleDialing = 64

// defaultIdleSteps are the checkpoints of BenchmarkIdleRSS: 19,000 clients
// fit under an open-files limit of 20,000 per process.
var defaultIdleSteps = []int{1000, 5000, 10000, 19000}

// idleCheckpoint is what a measuring process reports once it holds Clients
// idle connections.
type idleCheckpoint struct {
	Clients int `json:"clients"`
	// RSS is VmRSS after the connections settled, before this checkpoint's
	// forced GC: what a user sees, the garbage of the ramp included.
	RSS uint64 `json:"rss"`
	// RSSFloor is VmRSS after that GC returned all free memory to the OS:
	// the clients' own.
	RSSFloor uint64 `json:"rss_floor"`
	// After that GC: the Go runtime's stacks and heap in use.
	StackInuse uint64 `json:"stack_inuse"`
	HeapInuse  uint64 `json:"heap_inuse"`
	// ConnectSeconds and the CPU times cover connecting the clients added
	// since the previous checkpoint; GCs counts the collections meanwhile.
	ConnectSeconds float64 `json:"connect_s"`
	UserSeconds    float64 `json:"user_s"`
	SysSeconds     float64 `json:"sys_s"`
	GCs            uint32  `json:"gcs"`
}

// cpu is the checkpoint's CPU time, user plus system.
func (cp idleCheckpoint) cpu() float64 { return cp.UserSeconds + cp.SysSeconds }

// idleHerd is what a measuring process reports of a restart herd: the
// target closed each of its Clients connections with 1012 at once, and
// every client came back as fast as it could.
type idleHerd struct {
	Clients int `json:"clients"`
	// Seconds runs from the first close the process saw to the last
	// client's reconnect.
	Seconds float64 `json:"herd_s"`
	// The CPU times and GCs cover the whole herd: reading the closes,
	// closing, reconnecting.
	UserSeconds float64 `json:"user_s"`
	SysSeconds  float64 `json:"sys_s"`
	GCs         uint32  `json:"gcs"`
	// Failures are the failed reconnect attempts, retried at once.
	Failures int64 `json:"failures"`
	// RSS is VmRSS once the herd settled, before any forced GC: what a
	// user sees. An idle process may not collect for minutes.
	RSS uint64 `json:"rss"`
	// RSSFloor is VmRSS once two GCs (the second empties sync.Pools) gave
	// the herd's garbage back to the OS, as the next checkpoint starts.
	RSSFloor uint64 `json:"rss_floor"`
	// HeapInuse is after the first of those GCs: what sync.Pools hold
	// is still in use.
	HeapInuse uint64 `json:"heap_inuse"`
}

func (h idleHerd) cpu() float64 { return h.UserSeconds + h.SysSeconds }

// rate is the herd's handshakes per second.
func (h idleHerd) rate() float64 { return float64(h.Clients) / h.Seconds }

// targetMem is the target process's memory, the server side of the
// clients' connections, as a measuring process's checkpoint or herd ends.
type targetMem struct {
	Conns    int64  `json:"conns"`     // connections open
	RSS      uint64 `json:"rss"`       // VmRSS
	RSSFloor uint64 `json:"rss_floor"` // VmRSS after a GC gave free memory back
	// CPUSeconds is the target's CPU time so far, user plus system.
	CPUSeconds float64 `json:"cpu_s"`
}

// idleRun is what measureIdleHerds measured.
type idleRun struct {
	checkpoints []idleCheckpoint
	herds       []idleHerd // one after each checkpoint, if asked for
	// target is the target's memory at each checkpoint, then after each
	// herd, if herds were asked for.
	target, targetAfterHerd []targetMem
}

// runChild runs the role a parent test started this binary as, and exits;
// it returns at once in a process that is not a child.
func runChild() {
	role := os.Getenv(childRoleEnv)
	if role == "" {
		return
	}
	var err error
	switch role {
	case "target":
		err = targetChild()
	case "fleet", "bare":
		err = idleChild(role)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s child: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// targetChild runs a one-node embedded target of unlimited capacity, prints
// its URL and serves until its stdin closes. A line "close CODE" on its
// stdin closes every connection with CODE, as a restart of the whole
// service would, and is answered with "closed N"; a line "mem" is answered
// with its targetMem as JSON.
func targetChild() error {
	tgt, err := target.Start(context.Background(), target.Options{Nodes: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tgt.Shutdown(ctx)
	}()
	fmt.Println(tgt.URL())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "mem" {
			user, sys := cpuSeconds()
			m := targetMem{Conns: tgt.Stats()[0].Conns, RSS: vmRSS(), CPUSeconds: user + sys}
			runtime.GC()
			debug.FreeOSMemory()
			m.RSSFloor = vmRSS()
			printJSON(m)
			continue
		}
		arg, ok := strings.CutPrefix(sc.Text(), "close ")
		code, err := strconv.Atoi(arg)
		if !ok || err != nil {
			return fmt.Errorf("unknown command %q", sc.Text())
		}
		n, err := action.CloseShare(context.Background(), tgt, action.CloseParams{Fraction: 1, Code: code}, 0)
		if err != nil {
			return err
		}
		fmt.Println("closed", n)
	}
	return nil
}

// idleChild opens idle clients to the target up to each checkpoint in turn
// and prints a checkpoint's figures as a JSON line when it holds them all;
// with childHerdEnv set, it then takes part in a restart herd (see herd)
// before the next checkpoint. Then it holds the clients until its stdin
// closes.
func idleChild(role string) error {
	url := os.Getenv(childURLEnv)
	steps, err := parseSteps(os.Getenv(childStepsEnv))
	if err != nil {
		return err
	}
	dialing, err := strconv.Atoi(os.Getenv(childDialEnv))
	if err != nil {
		return err
	}
	sources, err := loopbackSources(os.Getenv(childSourcesEnv))
	if err != nil {
		return err
	}
	herds := os.Getenv(childHerdEnv) == "1"
	var clients idleClients
	if role == "fleet" {
		fc := newFleetClients(url, dialing, sources)
		fc.replies = os.Getenv(childRepliesEnv) == "1"
		if s := os.Getenv(childSendEnv); s != "" {
			if fc.send, err = time.ParseDuration(s); err != nil {
				return err
			}
		}
		clients = fc
	} else {
		clients = newBareClients(url, dialing, sources)
	}
	in := bufio.NewReader(os.Stdin)
	prev := 0
	for _, n := range steps {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		gcs := ms.NumGC
		user, sys := cpuSeconds()
		start := time.Now()
		if err := clients.open(prev, n); err != nil {
			return err
		}
		cp := idleCheckpoint{Clients: n, ConnectSeconds: time.Since(start).Seconds()}
		cp.UserSeconds, cp.SysSeconds = cpuSeconds()
		cp.UserSeconds -= user
		cp.SysSeconds -= sys
		time.Sleep(500 * time.Millisecond) // welcomes read, attempt runners gone
		cp.RSS = vmRSS()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		cp.StackInuse, cp.HeapInuse = ms.StackInuse, ms.HeapInuse
		cp.GCs = ms.NumGC - gcs - 1
		debug.FreeOSMemory()
		cp.RSSFloor = vmRSS()
		printJSON(cp)
		prev = n
		if herds {
			h, err := herd(clients, n, in)
			if err != nil {
				return err
			}
			printJSON(h)
		}
	}
	_, _ = io.Copy(io.Discard, in)
	return nil
}

func printJSON(v any) {
	line, _ := json.Marshal(v)
	fmt.Println(string(line))
}

// herd measures one restart herd of the n clients held: on the line "herd"
// on stdin it prints "armed", and its parent has the target close every
// connection with 1012; it returns once every client has reconnected.
func herd(clients idleClients, n int, in *bufio.Reader) (idleHerd, error) {
	if l, err := in.ReadString('\n'); err != nil || l != "herd\n" {
		return idleHerd{}, fmt.Errorf("waiting for a herd: read %q, %v", l, err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs := ms.NumGC
	reconnects0, failures0, err := clients.counts()
	if err != nil {
		return idleHerd{}, err
	}
	user, sys := cpuSeconds()
	armed := time.Now()
	fmt.Println("armed")
	deadline := armed.Add(2 * time.Minute)
	var first time.Time // the first close seen
	for {
		// Polled every millisecond: cheap next to the herd, and as fine
		// as its timing needs.
		time.Sleep(time.Millisecond)
		now := time.Now()
		if clients.connected() < int64(n) {
			if first.IsZero() {
				first = now
			}
			if now.After(deadline) {
				return idleHerd{}, fmt.Errorf("herd of %d clients: %d connected after 2m", n, clients.connected())
			}
			continue
		}
		reconnects, failures, err := clients.counts()
		if err != nil {
			return idleHerd{}, err
		}
		if reconnects-reconnects0 < int64(n) {
			if now.After(deadline) {
				return idleHerd{}, fmt.Errorf("herd of %d clients: %d reconnected in 2m", n, reconnects-reconnects0)
			}
			continue // the closes have not reached every client yet
		}
		if first.IsZero() {
			first = armed // every client closed and came back between two polls
		}
		h := idleHerd{Clients: n, Seconds: now.Sub(first).Seconds(), Failures: failures - failures0}
		h.UserSeconds, h.SysSeconds = cpuSeconds()
		h.UserSeconds -= user
		h.SysSeconds -= sys
		runtime.ReadMemStats(&ms)
		h.GCs = ms.NumGC - gcs
		time.Sleep(500 * time.Millisecond) // as at a checkpoint
		h.RSS = vmRSS()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		h.HeapInuse = ms.HeapInuse
		// The second GC frees what the first moved to sync.Pools' victim
		// caches, so that the herd's leftovers do not count in the next
		// checkpoint's memory.
		debug.FreeOSMemory()
		h.RSSFloor = vmRSS()
		return h, nil
	}
}

// idleClients are the clients of a measuring process, the fleet's or bare
// gorilla/websocket ones. Both reconnect at once when the server closes a
// connection (here with 1012), and retry failed reconnects at once.
type idleClients interface {
	// open connects clients [from, to) and waits until all are connected.
	// Each call's clients dial at most the process's dials in flight at
	// once, counted apart from earlier calls' (each is one Fleet).
	open(from, to int) error
	// connected is the number of clients connected now.
	connected() int64
	// counts are the reconnects and failed reconnect attempts so far, or
	// what stopped a client.
	counts() (reconnects, failures int64, err error)
}

// loopbackSources parses childSourcesEnv: n is 127.0.0.1 to 127.0.0.n.
func loopbackSources(s string) ([]netip.Addr, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 254 {
		return nil, fmt.Errorf("source addresses %q: want a number from 0 to 254", s)
	}
	var addrs []netip.Addr
	for i := range n {
		addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)}))
	}
	return addrs, nil
}

// fleetClients are idle clients of the fleet: one Fleet per open, all
// recording into one recorder, reconnecting at once (strategy none).
type fleetClients struct {
	url     string
	dialing int
	sources []netip.Addr
	send    time.Duration // the send interval; 0: idle
	replies bool          // the clients have reply rules
	rec     *stats.Recorder
}

func newFleetClients(url string, dialing int, sources []netip.Addr) *fleetClients {
	return &fleetClients{url: url, dialing: dialing, sources: sources,
		rec: stats.New(stats.Config{Start: time.Now(), Horizon: time.Minute})}
}

func (fc *fleetClients) open(from, to int) error {
	cfg := baseConfig()
	cfg.URL = fc.url
	cfg.Clients = to - from
	cfg.MaxDialing = fc.dialing
	cfg.SourceAddrs = fc.sources
	cfg.SendInterval, cfg.PayloadBytes = fc.send, 32
	if fc.replies {
		cfg.Replies = []Reply{pingRule(), {Name: "io server disconnect", Regex: regexp.MustCompile(`^41$`), Then: StopSession}}
	}
	backoff, err := NewBackoff(profile.Reconnect{Strategy: profile.StrategyNone})
	if err != nil {
		return err
	}
	cfg.Backoff = backoff
	f, err := New(cfg, fc.rec)
	if err != nil {
		return err
	}
	go f.Run(context.Background()) // the process exits with the clients
	return waitConnected(func() (int64, error) { return fc.rec.Connected(), nil }, to)
}

func (fc *fleetClients) connected() int64 { return fc.rec.Connected() }

func (fc *fleetClients) counts() (reconnects, failures int64, err error) {
	s := fc.rec.Snapshot()
	for _, n := range s.Failures {
		failures += n
	}
	if s.GaveUp > 0 {
		return 0, 0, fmt.Errorf("%d clients gave up", s.GaveUp)
	}
	return s.Reconnects, failures, nil
}

// bareClients are idle clients connected the plainest way with
// gorilla/websocket: its default dialer (from a source address, one dialer
// per address, if any), one goroutine per client that dials, reads until
// the connection ends, closes it and dials again at once.
type bareClients struct {
	url     string
	dialing int
	dialers []*websocket.Dialer

	live       atomic.Int64
	reconnects atomic.Int64
	failures   atomic.Int64
	failed     atomic.Pointer[error] // a first dial failed
}

func newBareClients(url string, dialing int, sources []netip.Addr) *bareClients {
	bc := &bareClients{url: url, dialing: dialing}
	for _, d := range sourceDialers(sources) {
		wd := *websocket.DefaultDialer
		wd.NetDialContext = d.DialContext
		bc.dialers = append(bc.dialers, &wd)
	}
	if len(bc.dialers) == 0 {
		bc.dialers = []*websocket.Dialer{websocket.DefaultDialer}
	}
	return bc
}

func (bc *bareClients) open(from, to int) error {
	dials := make(chan struct{}, bc.dialing) // this call's, as a Fleet's
	for id := from; id < to; id++ {
		go bc.run(bc.dialers[id%len(bc.dialers)], dials)
	}
	return waitConnected(func() (int64, error) {
		if err := bc.failed.Load(); err != nil {
			return 0, fmt.Errorf("a dial failed: %w", *err)
		}
		return bc.live.Load(), nil
	}, to)
}

// run is one client's life.
func (bc *bareClients) run(d *websocket.Dialer, dials chan struct{}) {
	for reconnecting := false; ; {
		dials <- struct{}{}
		c, _, err := d.Dial(bc.url, nil)
		<-dials
		switch {
		case err != nil && !reconnecting:
			bc.failed.CompareAndSwap(nil, &err)
			return
		case err != nil:
			bc.failures.Add(1)
			continue
		case reconnecting:
			bc.reconnects.Add(1)
		}
		bc.live.Add(1)
		for {
			if _, _, err = c.ReadMessage(); err != nil {
				break
			}
		}
		c.Close()
		bc.live.Add(-1)
		reconnecting = true
	}
}

func (bc *bareClients) connected() int64 { return bc.live.Load() }

func (bc *bareClients) counts() (reconnects, failures int64, err error) {
	if err := bc.failed.Load(); err != nil {
		return 0, 0, fmt.Errorf("a dial failed: %w", *err)
	}
	return bc.reconnects.Load(), bc.failures.Load(), nil
}

// waitConnected waits until connected() reaches n, or fails.
func waitConnected(connected func() (int64, error), n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := connected()
		switch {
		case err != nil:
			return err
		case c >= int64(n):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("only %d of %d clients connected in 2m", c, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// vmRSS returns the process's resident memory from /proc/self/status.
func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func parseSteps(s string) ([]int, error) {
	var steps []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || len(steps) > 0 && n <= steps[len(steps)-1] {
			return nil, fmt.Errorf("client counts %q: want ascending positive numbers", s)
		}
		steps = append(steps, n)
	}
	return steps, nil
}

// child is a process of this test binary in a role; it ends when the test
// does, whatever the test's outcome.
type child struct {
	role   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser // closed, the child ends
	lines  chan string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChild(tb testing.TB, role string, env ...string) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), append([]string{childRoleEnv + "=" + role}, env...)...)
	c := &child{role: role, cmd: cmd, lines: make(chan string, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.stdin.Close()
		_ = cmd.Process.Kill() // without waiting for its 19,000 connections to close
		_ = cmd.Wait()
	})
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c
}

// send writes a line to the child's stdin.
func (c *child) send(tb testing.TB, line string) {
	tb.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		tb.Fatalf("%s child: %v: %s", c.role, err, c.stderr.String())
	}
}

// line returns the child's next line of output.
func (c *child) line(tb testing.TB, timeout time.Duration) string {
	tb.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			tb.Fatalf("%s child ended: %s", c.role, c.stderr.String())
		}
		return l
	case <-time.After(timeout):
		tb.Fatalf("no output from the %s child in %v: %s", c.role, timeout, c.stderr.String())
	}
	return ""
}

// idleOptions are what a measurement does besides holding clients.
type idleOptions struct {
	// herds: after each checkpoint, the target closes every connection
	// with 1012 and the clients reconnect at once.
	herds bool
	// sources: clients dial from 127.0.0.1 to 127.0.0.sources; 0: the OS
	// picks.
	sources int
	// send: the fleet's clients send a message at this interval and the
	// target echoes it; 0: idle.
	send time.Duration
	// replies: the fleet's clients have reply rules.
	replies bool
}

// measureIdle holds steps idle clients of one kind ("fleet" or "bare") in a
// process of their own, the target in another, and returns the measuring
// process's checkpoints.
func measureIdle(tb testing.TB, kind string, steps []int) []idleCheckpoint {
	tb.Helper()
	return measureIdleHerds(tb, kind, steps, idleOptions{}).checkpoints
}

// measureIdleHerds is measureIdle with opts, and the target's memory.
func measureIdleHerds(tb testing.TB, kind string, steps []int, opts idleOptions) idleRun {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("resident memory is read from /proc")
	}
	// Each process holds one side of every connection, and a few more files.
	if lim, need := openFilesLimit(), uint64(steps[len(steps)-1]+200); lim > 0 && lim < need {
		tb.Skipf("%d clients need %d open files per process, the limit is %d: raise it (ulimit -Hn) or set %s lower", steps[len(steps)-1], need, lim, idleStepsEnv)
	}
	tgt := startChild(tb, "target")
	url := tgt.line(tb, 30*time.Second)
	if !strings.HasPrefix(url, "ws://") {
		tb.Fatalf("target child printed %q", url)
	}
	var s []string
	for _, n := range steps {
		s = append(s, strconv.Itoa(n))
	}
	env := []string{childURLEnv + "=" + url, childStepsEnv + "=" + strings.Join(s, ","),
		childDialEnv + "=" + strconv.Itoa(idleDialing), childSourcesEnv + "=" + strconv.Itoa(opts.sources),
		childSendEnv + "=" + opts.send.String()}
	if opts.herds {
		env = append(env, childHerdEnv+"=1")
	}
	if opts.replies {
		env = append(env, childRepliesEnv+"=1")
	}
	m := startChild(tb, kind, env...)
	var run idleRun
	for range steps {
		var cp idleCheckpoint
		if l := m.line(tb, 3*time.Minute); json.Unmarshal([]byte(l), &cp) != nil {
			tb.Fatalf("%s child printed %q", kind, l)
		}
		run.checkpoints = append(run.checkpoints, cp)
		run.target = append(run.target, memOf(tb, tgt))
		if opts.herds {
			run.herds = append(run.herds, restartHerd(tb, tgt, m, cp.Clients))
			run.targetAfterHerd = append(run.targetAfterHerd, memOf(tb, tgt))
		}
	}
	return run
}

// memOf returns the target child's memory.
func memOf(tb testing.TB, tgt *child) targetMem {
	tb.Helper()
	tgt.send(tb, "mem")
	var m targetMem
	if l := tgt.line(tb, time.Minute); json.Unmarshal([]byte(l), &m) != nil {
		tb.Fatalf("target child printed %q", l)
	}
	return m
}

// restartHerd has the target close all n connections of the measuring
// child m with 1012 once m is ready to time the herd, and returns m's
// figures of it.
func restartHerd(tb testing.TB, tgt, m *child, n int) idleHerd {
	tb.Helper()
	m.send(tb, "herd")
	if l := m.line(tb, 30*time.Second); l != "armed" {
		tb.Fatalf("%s child printed %q, want armed", m.role, l)
	}
	tgt.send(tb, "close 1012")
	if l, want := tgt.line(tb, time.Minute), fmt.Sprint("closed ", n); l != want {
		tb.Fatalf("target child printed %q, want %q", l, want)
	}
	var h idleHerd
	if l := m.line(tb, 3*time.Minute); json.Unmarshal([]byte(l), &h) != nil {
		tb.Fatalf("%s child printed %q", m.role, l)
	}
	return h
}

// idleSlope is the cost of one more client from the first checkpoint to the
// last, in bytes.
func idleSlope(cps []idleCheckpoint, v func(idleCheckpoint) uint64) float64 {
	a, b := cps[0], cps[len(cps)-1]
	return (float64(v(b)) - float64(v(a))) / float64(b.Clients-a.Clients)
}

func cpRSS(cp idleCheckpoint) uint64   { return cp.RSS }
func cpFloor(cp idleCheckpoint) uint64 { return cp.RSSFloor }
func cpStack(cp idleCheckpoint) uint64 { return cp.StackInuse }
func cpHeap(cp idleCheckpoint) uint64  { return cp.HeapInuse }

// logIdle logs a table of checkpoints: the RSS per client over all clients
// and over the step from the previous checkpoint, before the checkpoint's
// GC and after it (floor); stack and heap per client; the CPU and the rate
// of the step's handshakes.
func logIdle(tb testing.TB, kind string, cps []idleCheckpoint) {
	tb.Helper()
	var w strings.Builder
	fmt.Fprintf(&w, "%-5s %7s %7s %7s %7s %7s %7s %7s %6s %6s %6s %6s %6s %4s\n", kind,
		"clients", "RSS-MB", "RSS-KiB", "step", "floor", "stack", "heap", "conn-s", "user-s", "sys-s", "µs/hs", "hs/s", "GCs")
	prev := idleCheckpoint{}
	for _, cp := range cps {
		n, added := float64(cp.Clients), float64(cp.Clients-prev.Clients)
		step := func(v func(idleCheckpoint) uint64) float64 {
			if prev.Clients == 0 {
				return 0
			}
			return (float64(v(cp)) - float64(v(prev))) / 1024 / added
		}
		fmt.Fprintf(&w, "%-5s %7d %7.1f %7.2f %7.2f %7.2f %7.2f %7.2f %6.2f %6.2f %6.2f %6.1f %6.0f %4d\n", kind,
			cp.Clients, float64(cp.RSS)/1e6, float64(cp.RSS)/1024/n, step(cpRSS), step(cpFloor),
			float64(cp.StackInuse)/1024/n, float64(cp.HeapInuse)/1024/n,
			cp.ConnectSeconds, cp.UserSeconds, cp.SysSeconds, cp.cpu()/added*1e6, added/cp.ConnectSeconds, cp.GCs)
		prev = cp
	}
	fmt.Fprintf(&w, "%-5s slope %d..%d, KiB/client: RSS %.2f, floor %.2f, stack %.2f, heap %.2f; connecting: %.1f µs CPU (%.1f user) per handshake, %.0f handshakes/s",
		kind, cps[0].Clients, cps[len(cps)-1].Clients,
		idleSlope(cps, cpRSS)/1024, idleSlope(cps, cpFloor)/1024, idleSlope(cps, cpStack)/1024, idleSlope(cps, cpHeap)/1024,
		cpuPerHandshake(cps)*1e6, userPerHandshake(cps)*1e6, handshakesPerSecond(cps))
	tb.Log("\n" + w.String())
}

// cpuPerHandshake is the CPU-seconds of the measuring process per
// connection opened, over all steps.
func cpuPerHandshake(cps []idleCheckpoint) float64 {
	var cpu float64
	for _, cp := range cps {
		cpu += cp.cpu()
	}
	return cpu / float64(cps[len(cps)-1].Clients)
}

// userPerHandshake is cpuPerHandshake's user part: the kernel's share
// grows with the connections open (ephemeral port search).
func userPerHandshake(cps []idleCheckpoint) float64 {
	var cpu float64
	for _, cp := range cps {
		cpu += cp.UserSeconds
	}
	return cpu / float64(cps[len(cps)-1].Clients)
}

func handshakesPerSecond(cps []idleCheckpoint) float64 {
	var s float64
	for _, cp := range cps {
		s += cp.ConnectSeconds
	}
	return float64(cps[len(cps)-1].Clients) / s
}

// logHerds logs a table of the restart herds: how long until every client
// was back, the handshakes per second meanwhile, the CPU the herd took and
// the failed attempts, and the RSS once it settled.
func logHerds(tb testing.TB, kind string, herds []idleHerd) {
	tb.Helper()
	var w strings.Builder
	fmt.Fprintf(&w, "%-5s %7s %7s %7s %6s %6s %6s %6s %8s %7s %7s %7s %4s\n", kind,
		"clients", "herd-s", "hs/s", "user-s", "sys-s", "cpu-s", "µs/hs", "failures", "RSS-MB", "heap-MB", "floor", "GCs")
	for _, h := range herds {
		fmt.Fprintf(&w, "%-5s %7d %7.3f %7.0f %6.2f %6.2f %6.2f %6.1f %8d %7.1f %7.1f %7.1f %4d\n", kind,
			h.Clients, h.Seconds, h.rate(), h.UserSeconds, h.SysSeconds, h.cpu(),
			h.cpu()/float64(h.Clients)*1e6, h.Failures, float64(h.RSS)/1e6, float64(h.HeapInuse)/1e6, float64(h.RSSFloor)/1e6, h.GCs)
	}
	tb.Log("\n" + w.String())
}

// logTarget logs the target's memory at each checkpoint, and after each
// herd: the RSS, and per connection open, the RSS and the RSS after a GC
// (floor); and the CPU it spent since the previous row: in the ramp to the
// checkpoint, or in the herd.
func logTarget(tb testing.TB, kind string, run idleRun) {
	tb.Helper()
	var w strings.Builder
	fmt.Fprintf(&w, "%-5s %-10s %7s %7s %7s %7s %6s\n", kind, "target", "conns", "RSS-MB", "KiB/cn", "floor", "cpu-s")
	var prevCPU float64
	row := func(when string, m targetMem) {
		n := float64(max(m.Conns, 1))
		fmt.Fprintf(&w, "%-5s %-10s %7d %7.1f %7.2f %7.2f %6.2f\n", kind, when, m.Conns,
			float64(m.RSS)/1e6, float64(m.RSS)/1024/n, float64(m.RSSFloor)/1024/n, m.CPUSeconds-prevCPU)
		prevCPU = m.CPUSeconds
	}
	for i, m := range run.target {
		row("checkpoint", m)
		if i < len(run.targetAfterHerd) {
			row("after-herd", run.targetAfterHerd[i])
		}
	}
	tb.Log("\n" + w.String())
}

// BenchmarkIdleRSS reports the resident memory one more connected idle
// client costs, from the first checkpoint to the last (1,000 to 19,000
// clients, or $WSSTORM_IDLE_CLIENTS), for the fleet and for bare
// gorilla/websocket clients in the same run (sub-benchmarks fleet and
// bare), each in a process of its own with the target in another; and the
// CPU their connecting took.
//
// At each checkpoint, once its memory is measured, the target closes every
// connection with 1012 and the clients reconnect at once (the fleet with
// reconnect strategy none, the hardest herd it can make):
// herd-handshakes/s@N and herd-cpu-s@N are that herd's. Each checkpoint's
// clients were opened by a Fleet of their own, with its own 64 dials in
// flight; the bare clients are grouped the same way, so at the last
// checkpoint both reconnect with up to 64 dials in flight per checkpoint
// so far. WSSTORM_IDLE_HERD=off leaves the herds out.
//
// The target reports its own memory and CPU at each checkpoint and after
// each herd (target-rss-MB@N): the server side's cost, as wsstorm serve's.
//
// WSSTORM_IDLE_SOURCES=n has both kinds dial from 127.0.0.1 to 127.0.0.n,
// as fleet.source_addrs does, so that the kernel's ephemeral port search
// for each connect runs over clients/n ports in use, not all of them.
//
// WSSTORM_IDLE_SEND=1s has the fleet's clients send a 32-byte message
// every second and await its echo: what a sending client holds.
//
// Run it with -benchtime=1x:
//
//	go test -run '^$' -bench IdleRSS -benchtime 1x -v ./internal/fleet/
func BenchmarkIdleRSS(b *testing.B) {
	steps := defaultIdleSteps
	if s := os.Getenv(idleStepsEnv); s != "" {
		var err error
		if steps, err = parseSteps(s); err != nil {
			b.Fatal(err)
		}
	}
	if len(steps) < 2 {
		b.Fatal("need at least two checkpoints for a slope")
	}
	opts := idleOptions{herds: os.Getenv(idleHerdEnv) != "off"}
	if s := os.Getenv(idleSourcesEnv); s != "" {
		sources, err := loopbackSources(s)
		if err != nil {
			b.Fatalf("%s: %v", idleSourcesEnv, err)
		}
		opts.sources = len(sources)
	}
	if s := os.Getenv(idleSendEnv); s != "" {
		var err error
		if opts.send, err = time.ParseDuration(s); err != nil || opts.send < 0 {
			b.Fatalf("%s=%q: want a duration", idleSendEnv, s)
		}
	}
	for _, kind := range []string{"fleet", "bare"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				run := measureIdleHerds(b, kind, steps, opts)
				cps, herds := run.checkpoints, run.herds
				logIdle(b, kind, cps)
				b.ReportMetric(idleSlope(cps, cpRSS)/1024, "rss-KiB/client")
				b.ReportMetric(idleSlope(cps, cpFloor)/1024, "rss-floor-KiB/client")
				b.ReportMetric(idleSlope(cps, cpStack)/1024, "stack-KiB/client")
				b.ReportMetric(idleSlope(cps, cpHeap)/1024, "heap-KiB/client")
				b.ReportMetric(cpuPerHandshake(cps)*1e6, "cpu-µs/handshake")
				b.ReportMetric(userPerHandshake(cps)*1e6, "user-µs/handshake")
				b.ReportMetric(handshakesPerSecond(cps), "handshakes/s")
				prev := 0
				for _, cp := range cps {
					b.ReportMetric(float64(cp.RSS)/1e6, fmt.Sprintf("rss-MB@%d", cp.Clients))
					// The step's: the clients from the previous checkpoint to this one.
					b.ReportMetric(float64(cp.Clients-prev)/cp.ConnectSeconds, fmt.Sprintf("ramp-handshakes/s@%d", cp.Clients))
					b.ReportMetric(cp.cpu(), fmt.Sprintf("ramp-cpu-s@%d", cp.Clients))
					prev = cp.Clients
				}
				for i, m := range run.target {
					b.ReportMetric(float64(m.RSS)/1e6, fmt.Sprintf("target-rss-MB@%d", cps[i].Clients))
				}
				if len(herds) > 0 {
					logHerds(b, kind, herds)
				}
				logTarget(b, kind, run)
				for _, h := range herds {
					b.ReportMetric(h.rate(), fmt.Sprintf("herd-handshakes/s@%d", h.Clients))
					b.ReportMetric(h.cpu(), fmt.Sprintf("herd-cpu-s@%d", h.Clients))
				}
			}
		})
	}
}

// idleGuardSteps bound TestIdleClientMemory's size for CI.
var idleGuardSteps = []int{500, 3000}

// TestIdleClientMemory guards the resident memory of a connected idle
// client against regressions, the target in another process. The race
// detector multiplies memory, so the bound is checked only without it: CI
// runs this test once more without -race.
func TestIdleClientMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not representative under the race detector; run without -race")
	}
	if testing.Short() {
		t.Skip("short")
	}
	cps := measureIdle(t, "fleet", idleGuardSteps)
	logIdle(t, "fleet", cps)
	// At this size the fleet measured about 9.7 KiB of RSS and 7.1 KiB of
	// stack and heap per client (15 and 12.2 KiB before the lean-clients
	// work): the bounds leave room for noise, and fail a return of 8 KiB
	// stacks or of the old buffers.
	const maxRSS, maxStackHeap = 12 << 10, 9 << 10
	if rss := idleSlope(cps, cpRSS); rss > maxRSS {
		t.Errorf("resident memory per idle client %.1f KiB, want at most %d KiB", rss/1024, maxRSS>>10)
	}
	if sh := idleSlope(cps, cpStack) + idleSlope(cps, cpHeap); sh > maxStackHeap {
		t.Errorf("stack and heap per idle client %.1f KiB, want at most %d KiB", sh/1024, maxStackHeap>>10)
	}
}
