package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"
)

// Pools of Model.Pool.
const (
	// PoolTarget is one pool of workers for every node: the fleet and the
	// target share one machine's CPUs, as the embedded target does.
	PoolTarget = "target"
	// PoolNode is a pool per node: each node is a machine of its own.
	PoolNode = "node"
)

// Model is what the profile does not say about a target and the network
// between it and the clients: how long a handshake takes on the wire, and
// how much work it is. The profile's [target.capacity] (accept_rate,
// accept_burst, max_conns, handshake_delay, retry_after) and its chaos
// steps (drain, downtime) say the rest.
//
// A connect attempt spends half a network draw reaching its node, queues
// for a worker of its pool, holds it for ServiceTime (a 503 as well), waits
// handshake_delay, and spends the other half of the draw coming back.
type Model struct {
	// NetworkMedianMS and NetworkP99MS are the median and the 99th
	// percentile of a handshake's time on the wire (TCP connect, request,
	// response), milliseconds; draws are lognormal between the two.
	NetworkMedianMS float64 `json:"network_median_ms"`
	NetworkP99MS    float64 `json:"network_p99_ms"`
	// ServiceTimeMS is the work of one handshake (client and server side),
	// milliseconds, during which it holds a worker.
	ServiceTimeMS float64 `json:"service_time_ms"`
	// Workers is how many handshakes a pool serves at once (CPUs); 0: no
	// limit, the service time only adds to the latency.
	Workers int `json:"workers"`
	// Pool says whether the nodes share one pool of workers (PoolTarget)
	// or have one each (PoolNode).
	Pool string `json:"pool"`
	// CloseRate is how many closes per second reach their clients when the
	// target closes many connections at once (frames written and read, the
	// clients' goroutines woken): the k-th is read k/CloseRate after the
	// first. With Workers, closing is work of the pool (Workers/CloseRate
	// a close), which handshakes wait behind. 0: all at once, no work.
	CloseRate float64 `json:"close_rate"`
	// MessageTimeMS is the work of one periodic message and its echo
	// (fleet.session.send_interval), milliseconds. The simulator sends no
	// messages, but with Workers their work is a load on the pool that
	// comes and goes with the connected clients: handshakes take longer
	// while many are connected. 0: none.
	MessageTimeMS float64 `json:"message_time_ms"`
}

// maxCloseRate is the highest close_rate a model takes.
const maxCloseRate = 1e9

// DefaultModel is the model without calibration: a loopback network, a
// handshake's work of 0.2 ms and no limit on handshakes served at once, so
// that the profile's capacity model alone limits the target.
func DefaultModel() Model {
	return Model{NetworkMedianMS: 0.5, NetworkP99MS: 5, ServiceTimeMS: 0.2, Pool: PoolTarget}
}

// Validate says what is wrong with m, naming the field.
func (m Model) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"network_median_ms", m.NetworkMedianMS},
		{"network_p99_ms", m.NetworkP99MS},
		{"service_time_ms", m.ServiceTimeMS},
		{"message_time_ms", m.MessageTimeMS},
	} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) || f.v > 3.6e6 {
			return fmt.Errorf("model %s is %v: want a number of milliseconds from 0 to 3600000", f.name, f.v)
		}
	}
	if !(m.CloseRate == 0 || m.CloseRate >= 1 && m.CloseRate <= maxCloseRate) {
		return fmt.Errorf("model close_rate is %v: want 0 (all at once) or closes per second from 1 to 1e9", m.CloseRate)
	}
	if m.NetworkP99MS < m.NetworkMedianMS {
		return fmt.Errorf("model network_p99_ms %v is below network_median_ms %v", m.NetworkP99MS, m.NetworkMedianMS)
	}
	if m.Workers < 0 || m.Workers > 1<<20 {
		return fmt.Errorf("model workers is %d: want 0 (no limit) to %d", m.Workers, 1<<20)
	}
	if m.Pool != PoolTarget && m.Pool != PoolNode {
		return fmt.Errorf("model pool is %q: want %q (the nodes share one machine) or %q (a machine each)", m.Pool, PoolTarget, PoolNode)
	}
	return nil
}

// Capacity is the handshakes per second one pool serves: Workers over the
// service time; +Inf without a limit.
func (m Model) Capacity() float64 {
	if m.Workers == 0 || m.ServiceTimeMS == 0 {
		return math.Inf(1)
	}
	return float64(m.Workers) / (m.ServiceTimeMS / 1000)
}

// String is the model in one line, for logs.
func (m Model) String() string {
	c := "unlimited"
	if capa := m.Capacity(); !math.IsInf(capa, 1) {
		c = fmt.Sprintf("%.0f handshakes/s per %s (%d workers × %.3f ms)", capa, m.Pool, m.Workers, m.ServiceTimeMS)
	} else {
		c += fmt.Sprintf(" (%.3f ms of work each)", m.ServiceTimeMS)
	}
	cl := "all at once"
	if m.CloseRate > 0 {
		cl = fmt.Sprintf("%.0f/s", m.CloseRate)
	}
	msg := ""
	if m.MessageTimeMS > 0 && m.Workers > 0 {
		msg = fmt.Sprintf("; messages %.4f ms of work each", m.MessageTimeMS)
	}
	return fmt.Sprintf("network median %.3f ms, p99 %.3f ms; handshakes %s; closes reach clients %s%s",
		m.NetworkMedianMS, m.NetworkP99MS, c, cl, msg)
}

// JSON is the model as written into results.
func (m Model) JSON() json.RawMessage {
	b, _ := json.Marshal(m) // plain numbers and a string: cannot fail
	return b
}

// JSONIndent is the model as model.json holds it.
func (m Model) JSONIndent() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return b
}

// LoadModel reads a model from a JSON file, as --calibrate writes it
// (model.json): every field must be known, and the model valid.
func LoadModel(path string) (Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Model{}, err
	}
	m := DefaultModel()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Model{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return Model{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// lognormal draws durations whose median and 99th percentile are given.
type lognormal struct {
	median float64 // ns
	sigma  float64
}

// z99 is the standard normal's 99th percentile.
const z99 = 2.3263478740408408

func newLognormal(medianMS, p99MS float64) lognormal {
	l := lognormal{median: medianMS * 1e6}
	if medianMS > 0 && p99MS > medianMS {
		l.sigma = math.Log(p99MS/medianMS) / z99
	}
	return l
}

func (l lognormal) draw(rng *rand.Rand) int64 {
	if l.sigma == 0 {
		return int64(l.median)
	}
	v := l.median * math.Exp(l.sigma*rng.NormFloat64())
	return int64(min(v, float64(time.Hour)))
}
