//go:build !linux

package target

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// reusePortSupported reports whether listenReusePort works here.
const reusePortSupported = false

// errReusePortUnsupported says the reuseport balancer needs Linux.
func errReusePortUnsupported() error {
	return fmt.Errorf("SO_REUSEPORT load balancing needs Linux: %w", errors.ErrUnsupported)
}

// listenReusePort is not supported on this platform; the dispatch balancer
// is used instead.
func listenReusePort(context.Context, string) (net.Listener, error) {
	return nil, errReusePortUnsupported()
}
