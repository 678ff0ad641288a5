package fleet

import (
	"crypto/tls"

	"github.com/wsstorm/wsstorm/internal/profile"
)

// TLSConfig returns the TLS configuration target.tls asks for, as the
// fleet's wss:// dials use it: for the chaos proxy's dials to a wss://
// upstream, which are the clients' dials one hop further.
func TLSConfig(p *profile.Profile) (*tls.Config, error) {
	return tlsConfig(p.Target.TLS)
}
