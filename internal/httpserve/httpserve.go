// Package httpserve serves an HTTP handler for wsstorm's own endpoints (the
// admin API, /metrics) on an address that is loopback unless the user asks
// otherwise, and shuts it down with its context.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// shutdownGrace bounds how long requests under way may finish once the
// server is told to stop.
const shutdownGrace = 2 * time.Second

// ListenAddr checks an address to listen on and fills in what it leaves
// out: a missing host is 127.0.0.1 (wsstorm's endpoints are loopback unless
// asked otherwise), so ":9900" and "9900" both mean 127.0.0.1:9900.
func ListenAddr(addr string) (string, error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", addr), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: want HOST:PORT, e.g. 127.0.0.1:9900 (port 0 picks a free one)", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Server is a running endpoint.
type Server struct {
	ln   net.Listener
	addr string // the host asked for, the port bound
	done chan error
}

// Serve listens on addr (see ListenAddr) and serves h there; what names the
// endpoint in errors ("the admin API", "metrics"). It returns once
// listening, or with an error when addr cannot be bound (in use, not an
// address of this machine); it serves until ctx ends, then shuts down,
// giving requests under way a moment to finish: Wait waits for that.
func Serve(ctx context.Context, what, addr string, h http.Handler) (*Server, error) {
	addr, err := ListenAddr(addr)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		// "bind: address already in use" says it better than the whole
		// "listen tcp ADDR: bind: ..." chain.
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return nil, fmt.Errorf("cannot serve %s on %s: %w", what, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s := &Server{ln: ln, addr: ln.Addr().String(), done: make(chan error, 1)}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			// "0.0.0.0:9900" listens on "[::]:9900": say what was asked.
			s.addr = net.JoinHostPort(host, strconv.Itoa(a.Port))
		}
	}
	go func() {
		serveErr := make(chan error, 1)
		go func() { serveErr <- srv.Serve(ln) }()
		select {
		case err := <-serveErr:
			s.done <- err
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			srv.Close()
		}
		<-serveErr // http.ErrServerClosed
		s.done <- err
	}()
	return s, nil
}

// Addr returns the address the server listens on: the host Serve was
// given, with the port chosen when it asked for port 0.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's base URL, such as "http://127.0.0.1:9900/".
func (s *Server) URL() string { return "http://" + s.addr + "/" }

// Loopback reports whether only this machine can reach the server.
func (s *Server) Loopback() bool {
	a, ok := s.ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// Wait waits until the server has shut down after its context ended, and
// returns why it stopped if that was not the context.
func (s *Server) Wait() error {
	err := <-s.done
	s.done <- err // later calls see the same
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
