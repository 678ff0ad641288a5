package realtest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sample is one series of a Prometheus text exposition.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is what one scrape of a backend's /metrics returned.
type Metrics []Sample

// The metrics that count connections, by kind. The Node apps' come from
// test/real/node/lib/connections.js. Centrifugo's (centrifuge
// v0.38.1-0.20260711082514-84d40cc4dbf6 metrics.go, namespace "centrifugo"
// from centrifugo v6.9.1 internal/app/node.go):
//   - centrifugo_client_connections_accepted: sessions authenticated (a
//     connect command answered), by transport and client name; not upgrades;
//   - centrifugo_client_connections_inflight: those open now, exact; it
//     counts a client as the node adds it to the hub by user (node.go
//     addClient), so the server API's disconnect of a user finds all it
//     counts;
//   - centrifugo_node_num_clients: the same, but refreshed only every 10 s
//     (node.go updateMetrics): do not use it for exact counts;
//   - centrifugo_client_num_server_disconnects{code}: sessions the server
//     ended, by disconnect code (not 3000, a client going away);
//   - centrifugo_transport_outgoing_close_count{code,transport}: the close
//     frames it sent.
//
// Its shutdown's 3001 closes happen after the last scrape a process allows:
// no scrape counts them.
const (
	NodeConnects             = "wsstorm_real_connects_total"
	NodeDisconnects          = "wsstorm_real_disconnects_total" // by code
	NodeConnected            = "wsstorm_real_connected"
	CentrifugoAccepted       = "centrifugo_client_connections_accepted"
	CentrifugoInflight       = "centrifugo_client_connections_inflight"
	CentrifugoDisconnects    = "centrifugo_client_num_server_disconnects" // by code
	CentrifugoOutgoingCloses = "centrifugo_transport_outgoing_close_count"
	// A Socket.IO backend's namespace connects and disconnects
	// (test/real/node/socketio-server.js): the difference is the sockets in
	// a namespace now, which its /admin/disconnect kicks.
	SocketIONamespaceConnects    = "wsstorm_real_socketio_namespace_connects_total"
	SocketIONamespaceDisconnects = "wsstorm_real_socketio_namespace_disconnects_total" // by reason
)

// ReadMetrics reads a scrape saved by restart.sh (NAME.metrics.K) or
// down.sh (NAME.metrics.final).
func ReadMetrics(path string) (Metrics, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readMetrics(f, path)
}

// Metrics scrapes backend name's /metrics now: its counts while it runs,
// where Scrapes has those restart.sh and down.sh saved.
func (s *Stack) Metrics(name string) (Metrics, error) {
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", s.Port(name))
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return readMetrics(resp.Body, url)
}

// readMetrics reads a Prometheus text exposition from r; src names it in
// errors.
func readMetrics(r io.Reader, src string) (Metrics, error) {
	var out Metrics
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", src, n, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseSample parses `name{a="x",b="y"} value [timestamp]`.
func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value: %q", line)
	}
	s.Name = line[:i]
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		var err error
		if rest, err = parseLabels(rest[1:], s.Labels); err != nil {
			return s, err
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value: %q", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value of %q: %w", line, err)
	}
	s.Value = v
	return s, nil
}

// parseLabels reads `a="x",b="y"}` into labels and returns what follows.
func parseLabels(rest string, labels map[string]string) (string, error) {
	for {
		rest = strings.TrimLeft(rest, " ,")
		if strings.HasPrefix(rest, "}") {
			return rest[1:], nil
		}
		eq := strings.Index(rest, `="`)
		if eq < 0 {
			return "", fmt.Errorf("bad labels at %q", rest)
		}
		name := rest[:eq]
		rest = rest[eq+2:]
		var val strings.Builder
		for i := 0; ; i++ {
			if i >= len(rest) {
				return "", fmt.Errorf("unterminated label %s", name)
			}
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(rest[i])
				}
				continue
			}
			if c == '"' {
				rest = rest[i+1:]
				break
			}
			val.WriteByte(c)
		}
		labels[name] = val.String()
	}
}

// Sum adds the values of name's series whose labels include match's (all
// of name's series when match is empty).
func (m Metrics) Sum(name string, match map[string]string) float64 {
	var sum float64
	for _, s := range m {
		if s.Name != name {
			continue
		}
		ok := true
		for k, v := range match {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			sum += s.Value
		}
	}
	return sum
}

// ByLabel sums name's series by the value of one label: disconnects by code.
func (m Metrics) ByLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m {
		if s.Name == name {
			out[s.Labels[label]] += s.Value
		}
	}
	return out
}

// Scrapes lists backend name's saved scrapes in order: NAME.metrics.1, .2,
// ... (one before each restart), then NAME.metrics.final (down.sh).
func (s *Stack) Scrapes(name string) []string {
	files, _ := filepath.Glob(s.Path(name + ".metrics.*"))
	var numbered []string
	final := ""
	for _, f := range files {
		suffix := strings.TrimPrefix(filepath.Base(f), name+".metrics.")
		if suffix == "final" {
			final = f
		} else if _, err := strconv.Atoi(suffix); err == nil {
			numbered = append(numbered, f)
		}
	}
	sort.Slice(numbered, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(numbered[i]), name+".metrics."))
		b, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(numbered[j]), name+".metrics."))
		return a < b
	})
	if final != "" {
		numbered = append(numbered, final)
	}
	return numbered
}
