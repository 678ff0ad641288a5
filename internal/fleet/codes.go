package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

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
	// gorilla/websocket v1.5 rejects a received 1014 as a protocol error
	// ("websocket: bad close code 1014"); it is a valid code (RFC 6455 §7.4,
	// IANA registry), so record it as sent.
	if rest, ok := strings.CutPrefix(err.Error(), "websocket: bad close code "); ok {
		if code, convErr := strconv.Atoi(rest); convErr == nil && code == CloseBadGateway {
			return code
		}
		return websocket.CloseProtocolError
	}
	return websocket.CloseAbnormalClosure
}

// classify returns why a connect attempt failed.
func classify(err error, resp *http.Response) stats.Reason {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		return stats.HTTPStatus(resp.StatusCode)
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
	return stats.Other
}

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
