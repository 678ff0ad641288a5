package realtest

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Access is one line of the stack's nginx access log: one proxied
// connection, written when it ended (up.sh's log_format).
type Access struct {
	End      time.Time     // when the connection ended ($msec), to the millisecond
	Duration time.Duration // its whole life ($request_time)
	Status   int           // 101 for a WebSocket; 502 when no backend took it
	// UpstreamAddr lists each backend tried, in order ("127.0.0.1:18421,
	// 127.0.0.1:18422" after a refused connect); UpstreamStatus and
	// UpstreamConnectTime list the same tries.
	UpstreamAddr, UpstreamStatus, UpstreamConnectTime string
	RequestURI                                        string
	Connection                                        int64 // nginx's serial number of the connection
	RemotePort                                        int
	BytesSent                                         int64
}

// Start is when the connection began: its end less its life.
func (a Access) Start() time.Time { return a.End.Add(-a.Duration) }

// Client is the client number in the request's ?client=, or -1.
func (a Access) Client() int {
	u, err := url.ParseRequestURI(a.RequestURI)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(u.Query().Get("client"))
	if err != nil {
		return -1
	}
	return n
}

// Backend is the address of the backend that served the connection: the
// last one tried.
func (a Access) Backend() string {
	tries := strings.Split(a.UpstreamAddr, ",")
	return strings.TrimSpace(tries[len(tries)-1])
}

// Tries is how many backends nginx tried for the connection.
func (a Access) Tries() int {
	if a.UpstreamAddr == "" {
		return 0
	}
	return len(strings.Split(a.UpstreamAddr, ","))
}

// ReadAccessLog reads the stack's access.log.
func ReadAccessLog(path string) ([]Access, error) {
	var out []Access
	err := eachJSONLine(path, func(m map[string]any) error {
		msec, _ := m["msec"].(float64)
		rt, _ := m["request_time"].(float64)
		sec, frac := math.Modf(msec)
		out = append(out, Access{
			End:                 time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)),
			Duration:            time.Duration(math.Round(rt*1e3)) * time.Millisecond,
			Status:              num(m["status"]),
			UpstreamAddr:        str(m["upstream_addr"]),
			UpstreamStatus:      str(m["upstream_status"]),
			UpstreamConnectTime: str(m["upstream_connect_time"]),
			RequestURI:          str(m["request_uri"]),
			Connection:          int64(num(m["connection"])),
			RemotePort:          num(m["remote_port"]),
			BytesSent:           int64(num(m["bytes_sent"])),
		})
		return nil
	})
	return out, err
}

// AccessLog reads the stack's access.log.
func (s *Stack) AccessLog() ([]Access, error) { return ReadAccessLog(s.Path("access.log")) }
