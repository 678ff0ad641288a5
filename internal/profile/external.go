package profile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsstorm/wsstorm/internal/tmpl"
)

// environment is what a profile reads besides its own text: the variables
// ${NAME} takes, and the files it names (target.tls.ca_file). Tests and the
// fuzz target give their own.
type environment struct {
	lookupEnv func(name string) (string, bool)
	readFile  func(path string) ([]byte, error)
}

func osEnvironment() environment {
	return environment{lookupEnv: os.LookupEnv, readFile: readRegularFile}
}

// maxCAFileBytes bounds a CA file; a system bundle is a few hundred KiB.
const maxCAFileBytes = 8 << 20

// readRegularFile reads a regular file of at most maxCAFileBytes, so that a
// path such as /dev/zero or a named pipe cannot hang the check.
func readRegularFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, errors.New("it is a directory")
	case !fi.Mode().IsRegular():
		return nil, errors.New("it is not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCAFileBytes {
		return nil, fmt.Errorf("it is larger than %d MiB", maxCAFileBytes>>20)
	}
	return data, nil
}

// expand replaces ${NAME} in target.url and the header values of an
// external target with the variables' values, collecting the values in
// Target.Secrets, and keeps what was written for messages.
func (c *checker) expand() {
	t := &c.p.Target
	var secrets []string
	one := func(path []string, s string) string {
		k := keyString(path)
		c.written[k] = s
		out, used, problems := expandVars(s, c.env.lookupEnv)
		secrets = append(secrets, used...)
		for _, msg := range problems {
			c.report(k, k, msg)
		}
		if len(problems) > 0 {
			c.d.failed[k] = true
		}
		return out
	}
	if t.URL != "" {
		t.URL = one([]string{"target", "url"}, t.URL)
	}
	for i := range t.URLs {
		t.URLs[i] = one([]string{"target", "urls", strconv.Itoa(i)}, t.URLs[i])
	}
	hook := func(command []string, h *HookHTTP, key func(...string) []string) {
		for j := range command {
			command[j] = one(key("command", strconv.Itoa(j)), command[j])
		}
		if h.URL != "" {
			h.URL = one(key("http", "url"), h.URL)
		}
		h.Body = one(key("http", "body"), h.Body)
		for name, v := range h.Headers {
			h.Headers[name] = one(key("http", "headers", name), v)
		}
	}
	for i := range t.NodeHooks {
		h := &t.NodeHooks[i]
		key := func(name ...string) []string { return join([]string{"target", "nodes", strconv.Itoa(i)}, name...) }
		hook(h.Command, &h.HTTP, key)
		for _, name := range slices.Sorted(maps.Keys(h.Hooks)) {
			hk := h.Hooks[name]
			hook(hk.Command, &hk.HTTP, func(k ...string) []string { return key(append([]string{"hooks", name}, k...)...) })
			h.Hooks[name] = hk
		}
	}
	for _, name := range c.headerNames() {
		path := []string{"target", "headers", name}
		v := one(path, t.Headers[name])
		t.Headers[name] = v
		// A value typed on the command line is as secret as one from the
		// environment.
		if src := c.d.seen[keyString(path)]; src.set && v != "" {
			secrets = append(secrets, v)
		}
	}
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == "" })
	slices.Sort(secrets)
	t.Secrets = slices.Compact(secrets)
	if len(t.Secrets) == 0 {
		t.Secrets = nil
	}
}

// expandVars replaces each ${NAME} in s with the variable's value and each
// $$ with $. It returns the values it used, and a message for each
// reference it could not replace; those never show a value.
func expandVars(s string, lookup func(string) (string, bool)) (out string, used, problems []string) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "$"):
			b.WriteByte('$')
			i += 2
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				problems = append(problems, fmt.Sprintf("%s has no closing }: write ${NAME} to take a value from the environment, or $$ for a literal $", quoteShort(s[i:])))
				return b.String(), used, problems
			}
			name := rest[1:end]
			i += 1 + end + 1
			if !isVarName(name) {
				problems = append(problems, fmt.Sprintf("%s is not a variable reference: a name has letters, digits and _, and does not start with a digit; write $$ for a literal $", quoteShort("${"+name+"}")))
				continue
			}
			v, ok := lookup(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("${%s} is not set: export %s before the run", name, name))
				continue
			}
			b.WriteString(v)
			used = append(used, v)
		default:
			name := rest[:varNameLen(rest)]
			if name != "" {
				problems = append(problems, fmt.Sprintf("$%s is not a reference: write ${%s} to take %s from the environment, or $$ for a literal $", name, name, name))
			} else {
				problems = append(problems, "a lone $ must be written $$; ${NAME} takes a value from the environment")
			}
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), used, problems
}

// varNameLen returns the length of the variable name s starts with.
func varNameLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || n > 0 && c >= '0' && c <= '9' {
			n++
			continue
		}
		break
	}
	return n
}

func isVarName(s string) bool { return s != "" && varNameLen(s) == len(s) }

// quoteShort quotes s for a message, cut to a readable length.
func quoteShort(s string) string {
	const limit = 40
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // not inside a character
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// headerNames returns the names of target.headers in file order.
func (c *checker) headerNames() []string {
	return c.d.sortedKeys([]string{"target", "headers"}, toAnyMap(c.p.Target.Headers))
}

func toAnyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// givenUnder returns the key at path if the profile gave it, or else the
// first key under it that the profile gave, in file order.
func (c *checker) givenUnder(path ...string) (string, bool) {
	k := keyString(path)
	if _, ok := c.d.seen[k]; ok {
		return k, true
	}
	best, bestLine := "", 0
	for key, src := range c.d.seen {
		if !strings.HasPrefix(key, k+".") {
			continue
		}
		line := src.line
		if src.set || line == 0 {
			line = int(^uint(0) >> 1) // after the file's keys
		}
		if best == "" || line < bestLine || line == bestLine && key < best {
			best, bestLine = key, line
		}
	}
	return best, best != ""
}

// embeddedOnly reports the keys of an external target in an embedded one.
func (c *checker) embeddedOnly() {
	t := c.p.Target
	set := map[string]bool{"url": t.URL != "", "urls": len(t.URLs) > 0, "headers": len(t.Headers) > 0, "tls": t.TLS != TLS{}}
	if len(t.NodeHooks) > 0 {
		k, _ := c.givenUnder("target", "nodes")
		c.report(k, k, `[[target.nodes]] hooks apply only to an external target: write nodes = N for the embedded target's nodes, or set target.mode = "external"`)
	}
	for _, name := range []string{"url", "urls", "headers", "tls"} {
		k, ok := c.givenUnder("target", name)
		if !ok && !set[name] {
			continue
		}
		if !ok {
			k = keyString([]string{"target", name})
		}
		c.report(k, k, `applies only to an external target: remove it, or set target.mode = "external"`)
	}
}

// external checks an external target: no keys of the embedded one, a ws://
// or wss:// URL, headers wsstorm may send, and a TLS setup that can work.
func (c *checker) external() {
	for _, name := range []string{"nodes", "listen", "capacity"} {
		k, ok := c.givenUnder("target", name)
		switch {
		case !ok, name == "nodes" && len(c.p.Target.NodeHooks) > 0:
		case name == "nodes":
			c.report(k, k, `is the embedded target's count of nodes: an external target's nodes are [[target.nodes]] tables, each with its name and restart hook`)
		default:
			c.report(k, k, "applies only to the embedded target: remove it; an external target is whatever target.url reaches")
		}
	}
	scheme := "ws"
	if len(c.p.Target.URLs) == 0 || c.p.Target.URL != "" {
		scheme = c.targetURL()
	} else if strings.HasPrefix(c.p.Target.URLs[0], "wss:") {
		scheme = "wss"
	}
	c.targetURLs()
	c.headers()
	c.tls(scheme)
	c.nodeHooks()
}

// proxy checks a proxy target: the proxy's nodes and address, and the
// upstream it forwards to (target.url, with headers and TLS for it).
func (c *checker) proxy() {
	if k, ok := c.givenUnder("target", "capacity"); ok {
		c.report(k, k, "applies only to the embedded target: the proxy forwards to target.url, whose capacity is its own")
	}
	if len(c.p.Target.URLs) > 0 {
		c.bad([]string{"target", "urls"}, "applies only to an external target: the proxy forwards to one upstream, target.url")
	}
	if len(c.p.Target.NodeHooks) > 0 {
		c.bad([]string{"target", "nodes"}, "[[target.nodes]] hooks apply only to an external target: the proxy restarts its own nodes; write nodes = N")
	}
	scheme := c.targetURL()
	c.headers()
	c.tls(scheme)
}

// shown returns the value at key as written, for a message: before ${NAME}
// expansion, with a URL password hidden, quoted. It also says whether the
// value came from an expansion.
func (c *checker) shown(key, value string) (string, string) {
	w, ok := c.written[key]
	if !ok {
		w = value
	}
	after := ""
	if w != value {
		after = " (after ${NAME} expansion)"
	}
	// A URL is not quoted at all: a token typed with --set, or in its query,
	// is a secret too. The key and line point at it.
	if key == "target.url" {
		return "the URL", after
	}
	return quoteShort(maskPassword(w)), after
}

// targetURL checks target.url and returns its scheme, "" when it is not a
// usable URL.
func (c *checker) targetURL() string {
	path := []string{"target", "url"}
	k := keyString(path)
	raw := c.p.Target.URL
	if c.d.failed[k] {
		return ""
	}
	const example = `e.g. url = "wss://ws.example.test/socket"`
	shown, after := c.shown(k, raw)
	if raw == "" {
		need := "an external target needs the WebSocket URL to connect to"
		if c.p.Target.Mode == ModeProxy {
			need = "the proxy needs the upstream WebSocket URL to forward to"
		}
		if c.d.given(path...) {
			c.bad(path, "is empty: %s, %s", need, example)
		} else {
			c.badAt(path, []string{"target"}, "missing: %s, %s", need, example)
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		why := ""
		var ue *url.Error
		if after == "" && errors.As(err, &ue) {
			why = ": " + ue.Err.Error()
		}
		c.bad(path, "%s%s is not a URL%s; %s", shown, after, why, example)
		return ""
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		ws := map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
		c.bad(path, "%s%s is an %s:// URL: write %s:// for a WebSocket URL", shown, after, u.Scheme, ws)
		return ""
	case "":
		c.bad(path, "%s%s has no scheme: write ws:// or wss:// before the host, %s", shown, after, example)
		return ""
	default:
		c.bad(path, "%s%s has the scheme %s: write ws:// or wss://, %s", shown, after, quoteShort(u.Scheme), example)
		return ""
	}
	if u.Hostname() == "" {
		c.bad(path, "%s%s has no host: write the server's host after %s://, %s", shown, after, u.Scheme, example)
		return ""
	}
	if msg := templateProblem(raw, clientVars); msg != "" {
		c.bad(path, "%s", msg)
	}
	return u.Scheme
}

// reservedHeaders are the handshake headers gorilla/websocket's client sets
// itself and refuses to take from the caller, by canonical name.
var reservedHeaders = []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"}

func (c *checker) headers() {
	canonical := map[string]string{} // canonical name → key as written
	for _, name := range c.headerNames() {
		path := []string{"target", "headers", name}
		k := keyString(path)
		if !isToken(name) {
			c.bad(path, `%s is not a header name: use letters, digits and -, e.g. "X-Api-Key"`, quoteShort(name))
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if slices.Contains(reservedHeaders, canon) {
			c.bad(path, "wsstorm's WebSocket client sets %s itself in the handshake: remove it", name)
			continue
		}
		if first, dup := canonical[canon]; dup {
			c.bad(path, "is the same header as %s (header names ignore case): keep one", first)
			continue
		}
		canonical[canon] = k
		v := c.p.Target.Headers[name]
		if tmpl.HasRefs(c.written[k]) || tmpl.HasRefs(v) {
			c.bad(path, "templates such as {{client}} are not expanded in headers: put per-client values in the URL or a script message")
			continue
		}
		if !c.d.failed[k] && !validHeaderValue(v) {
			_, after := c.shown(k, v)
			c.bad(path, "the value%s has a control character (a line break, NUL, ...), which a header value cannot carry", after)
		}
	}
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as a header
// name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validHeaderValue reports whether v can be sent as a header value: no
// control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func (c *checker) tls(scheme string) {
	t := c.p.Target.TLS
	first, given := c.givenUnder("target", "tls")
	if !given && t == (TLS{}) {
		return
	}
	if scheme == "ws" {
		if !given {
			first = keyString([]string{"target", "tls"})
		}
		c.report(first, first, "applies only to a wss:// URL, and target.url is ws://: use wss://, or remove the TLS settings")
		return
	}
	caPath := []string{"target", "tls", "ca_file"}
	if t.CAFile != "" {
		how := ""
		if w, ok := c.written[keyString(caPath)]; ok && w != t.CAFile {
			how = " (a relative ca_file is read from the profile's directory)"
		}
		data, err := c.env.readFile(t.CAFile)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			c.bad(caPath, "cannot read %s%s: %v", t.CAFile, how, err)
		case !x509.NewCertPool().AppendCertsFromPEM(data):
			c.bad(caPath, "%s has no PEM certificate: name a file of CA certificates in PEM (-----BEGIN CERTIFICATE-----)", t.CAFile)
		}
		if t.InsecureSkipVerify {
			c.bad([]string{"target", "tls", "insecure_skip_verify"},
				"true turns certificate verification off, so ca_file would go unused: remove one of them")
		}
	}
	c.clientCert(t)
	if sn := t.ServerName; sn != "" && (strings.ContainsAny(sn, "/ \t@") || strings.Contains(sn, "://")) {
		c.bad([]string{"target", "tls", "server_name"}, `%s is not a host name: write the name the server's certificate carries, e.g. "ws.example.test"`, quoteShort(sn))
	}
}

// resolveCAFile makes a relative ca_file that the file gave relative to the
// profile's directory, as the file's author meant it; one given with --set
// stays relative to the working directory.
func (c *checker) resolveCAFile(profilePath string) {
	t := &c.p.Target.TLS
	for _, f := range []struct {
		name string
		path *string
	}{{"ca_file", &t.CAFile}, {"cert_file", &t.CertFile}, {"key_file", &t.KeyFile}} {
		key := []string{"target", "tls", f.name}
		src, ok := c.d.seen[keyString(key)]
		if *f.path == "" || !ok || src.set || filepath.IsAbs(*f.path) || profilePath == "" || profilePath == BuiltinPath {
			continue
		}
		c.written[keyString(key)] = *f.path
		joined := filepath.Join(filepath.Dir(profilePath), *f.path)
		// Absolute, so the profile.toml a run writes still finds the file.
		if abs, err := filepath.Abs(joined); err == nil {
			joined = abs
		}
		*f.path = joined
	}
}

// clientCert checks target.tls.cert_file and key_file: both or neither, and
// a certificate and key that belong together.
func (c *checker) clientCert(t TLS) {
	certPath, keyPath := []string{"target", "tls", "cert_file"}, []string{"target", "tls", "key_file"}
	switch {
	case t.CertFile == "" && t.KeyFile == "":
		return
	case t.KeyFile == "":
		c.badAt(keyPath, certPath, "missing: a client certificate needs its private key; name the PEM key file")
		return
	case t.CertFile == "":
		c.badAt(certPath, keyPath, "missing: a private key needs its client certificate; name the PEM certificate file")
		return
	}
	read := func(path []string, file string) []byte {
		data, err := c.env.readFile(file)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			c.bad(path, "cannot read %s: %v", file, err)
			return nil
		}
		return data
	}
	cert, key := read(certPath, t.CertFile), read(keyPath, t.KeyFile)
	if cert == nil || key == nil {
		return
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		c.bad(certPath, "%s and %s are not a certificate and its key in PEM: %v", t.CertFile, t.KeyFile, err)
	}
}

// expandOne replaces ${NAME} in s, the value of the key at path, with the
// variables' values, which join the profile's secrets; it keeps what was
// written for messages and the effective profile.
func (c *checker) expandOne(path []string, s string) string {
	k := keyString(path)
	c.written[k] = s
	out, used, problems := expandVars(s, c.env.lookupEnv)
	for _, msg := range problems {
		c.report(k, k, msg)
	}
	if len(problems) > 0 {
		c.d.failed[k] = true
	}
	for _, v := range used {
		c.addSecret(v)
	}
	return out
}

// addSecret adds v to the profile's secrets.
func (c *checker) addSecret(v string) {
	t := &c.p.Target
	if v != "" && !slices.Contains(t.Secrets, v) {
		t.Secrets = append(t.Secrets, v)
		slices.Sort(t.Secrets)
	}
}
