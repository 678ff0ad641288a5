package admin

import (
	"context"
	"net/http"

	"github.com/wsstorm/wsstorm/internal/httpserve"
)

// Server is a running admin endpoint.
type Server = httpserve.Server

// ListenAddr checks an admin address; a missing host is 127.0.0.1 (see
// httpserve.ListenAddr).
func ListenAddr(addr string) (string, error) { return httpserve.ListenAddr(addr) }

// Serve listens on addr and serves the admin API h there until ctx ends
// (see httpserve.Serve).
func Serve(ctx context.Context, addr string, h http.Handler) (*Server, error) {
	return httpserve.Serve(ctx, "the admin API", addr, h)
}
