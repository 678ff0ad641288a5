package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/gorilla/websocket"

	"github.com/wsstorm/wsstorm/internal/stats"
)

// CloseBadGateway is close code 1014, which gorilla/websocket has no constant for.
const CloseBadGateway = 1014

// closeCode returns the close code a read error stands for: the code of a
// close frame, or 1006 when the connection ended without one.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	if errors.Is(err, websocket.ErrReadLimit) {
		return websocket.CloseMessageTooBig // gorilla has sent 1009
	}
	// gorilla/websocket v1.5 rejects a received 1014 as a protocol error
	// ("websocket: bad close code 1014"); it is a valid code (RFC 6455 §7.4,
	// IANA registry), so record it as sent.
	if rest, ok := strings.CutPrefix(err.Error(), "websocket: bad close code "); ok {
		if code, convErr := strconv.Atoi(rest); convErr == nil && code == CloseBadGateway {
			return code
		}
		return websocket.CloseProtocolError
	}
	if isProtocolError(err) {
		return websocket.CloseProtocolError // gorilla has sent 1002
	}
	return websocket.CloseAbnormalClosure
}

// gorilla/websocket's frame-level protocol errors: it fails the connection
// with 1002 and returns "websocket: " and these, joined by ", ".
var protocolErrors = []string{
	"RSV1 set", "RSV2 set", "RSV3 set", "len > 125 for control", "FIN not set on control",
	"data before FIN", "continuation after FIN", "bad opcode ", "bad MASK",
	"invalid utf8 payload in close frame",
}

func isProtocolError(err error) bool {
	rest, ok := strings.CutPrefix(err.Error(), "websocket: ")
	if !ok {
		return false
	}
	for _, part := range strings.Split(rest, ", ") {
		known := false
		for _, p := range protocolErrors {
			if strings.HasPrefix(part, p) {
				known = true
				break
			}
		}
		if !known {
			return false
		}
	}
	return true
}

// classify returns why a connect attempt failed. pastDeadline says the
// attempt lasted its whole handshake timeout: a deadline that cuts a response
// line short comes back from net/http as "malformed HTTP response", not as a
// timeout.
func classify(err error, resp *http.Response, pastDeadline bool) stats.Reason {
	if resp != nil {
		if resp.StatusCode != http.StatusSwitchingProtocols {
			return stats.HTTPStatus(resp.StatusCode)
		}
		return stats.BadHandshake // 101, but no valid Sec-WebSocket-Accept or Upgrade
	}
	if pastDeadline {
		return stats.Timeout
	}
	var (
		ne       net.Error
		certErr  *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return stats.Refused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return stats.Timeout
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alertErr),
		errors.As(err, &unknown), errors.As(err, &hostErr):
		return stats.TLS
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return stats.Reset
	}
	return classifyLocal(err)
}

// classifyLocal names the failures the client's own machine reports, before
// a packet leaves it; the errno meanings are those of connect(2) and
// socket(2), Linux man-pages 6.9.
func classifyLocal(err error) stats.Reason {
	var dnsErr *net.DNSError
	switch {
	// connect(2): EADDRNOTAVAIL, "(Internet domain sockets) The socket
	// referred to by sockfd had not previously been bound to an address
	// and, upon attempting to bind it to an ephemeral port, it was
	// determined that all port numbers in the ephemeral port range are
	// currently in use." bind(2) returns it too for a source address that
	// is not local, which the run checks before it starts. bind(2) says the
	// same of a port-0 bind with EADDRINUSE: a client bound to a source
	// address where IP_BIND_ADDRESS_NO_PORT is missing (macOS, Linux
	// before 4.2) runs out of ports that way.
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return stats.NoSourcePort
	// socket(2): EMFILE, "The per-process limit on the number of open file
	// descriptors has been reached"; ENFILE, "The system-wide limit on the
	// total number of open files has been reached."
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return stats.TooManyOpenFiles
	// connect(2): ENETUNREACH, "Network is unreachable"; EHOSTUNREACH comes
	// from an ICMP host-unreachable answer (errno(3): "Host is
	// unreachable").
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return stats.Unreachable
	case errors.As(err, &dnsErr):
		return stats.DNS // a DNS timeout is past the deadline: timeout, above
	}
	return stats.Other
}

// failureMessage is what an Other failure said, as results keep it: a
// *url.Error's URL may carry a token in its query, so only the error inside
// it is kept; a local address is left out, as its ephemeral port would make
// every message distinct.
func failureMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Source != nil {
		c := *oe
		c.Source = nil
		err = &c
	}
	msg := err.Error()
	if len(msg) > maxFailureMessage {
		msg = strings.ToValidUTF8(msg[:maxFailureMessage], "") + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?' // the text summary prints it on a terminal
		}
		return r
	}, msg)
}

// maxFailureMessage bounds a kept message in bytes: a server's malformed
// answer is quoted in its error, and it could be long.
const maxFailureMessage = 200

// welcomeNode reads the node index from a welcome message such as
// {"type":"welcome","node":2}; -1 when there is none.
func welcomeNode(msg []byte) int {
	const key = `"node":`
	s := string(msg) // no allocation: the conversion does not escape
	i := strings.Index(s, key)
	if i < 0 {
		return -1
	}
	s = strings.TrimLeft(s[i+len(key):], " ")
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[:j])
	if err != nil {
		return -1
	}
	return n
}
