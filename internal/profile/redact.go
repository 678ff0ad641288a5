package profile

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// Redacted replaces a secret in text that wsstorm writes or prints.
const Redacted = "[redacted]"

// minSecret is the shortest secret Redact replaces wherever it occurs.
const minSecret = 4

// RedactURL returns the URL with its password and every query value replaced
// by "[redacted]", for logs: tokens often travel in the query.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redacted
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Redacted)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{Redacted}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Redact returns s with every secret of the profile replaced by "[redacted]":
// the values that came from the environment through ${NAME}, header values
// given with --set, and the password of target.url's userinfo. Results and
// logs pass through it whatever they show of the target.
func (p *Profile) Redact(s string) string {
	if p == nil {
		return s
	}
	secrets := slices.Clone(p.Target.Secrets)
	secrets = append(secrets, urlPasswords(p.Target.URL)...)
	// Secrets shorter than minSecret would garble every message they occur
	// in (a token "1" in "127.0.0.1"); where they matter, the URL and header
	// values are redacted by structure instead (RedactURL, RedactedOverrides).
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return len(s) < minSecret })
	if len(secrets) == 0 {
		return s
	}
	// Longest first, so that a secret containing another goes whole.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	secrets = slices.Compact(secrets)
	pairs := make([]string, 0, 2*len(secrets))
	for _, sec := range secrets {
		pairs = append(pairs, sec, Redacted)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// RedactedOverrides returns Overrides with the value of every override of
// target.url, target.headers, fleet.protocol_options or a client option that
// may carry a credential (and of target as a whole) replaced by
// "[redacted]", and any other secret redacted, for results that record the
// overrides: a token typed on the command line must not end up in them.
func (p *Profile) RedactedOverrides() []string {
	if p == nil || p.Overrides == nil {
		return nil
	}
	out := make([]string, len(p.Overrides))
	for i, o := range p.Overrides {
		out[i] = p.Redact(redactOverride(o))
	}
	return out
}

// redactOverride hides the value of a --set key=value that may carry a
// credential.
func redactOverride(o string) string {
	key, _, ok := strings.Cut(o, "=")
	if !ok {
		return o
	}
	switch k := strings.TrimSpace(key); {
	case k == "target", k == "target.url", k == "target.headers", strings.HasPrefix(k, "target.headers."),
		// A preset's options may carry a token; which do depends on the
		// preset, which an override may change: all of them, then.
		k == "fleet.protocol_options", strings.HasPrefix(k, "fleet.protocol_options."),
		k == "fleet.client_options", strings.HasPrefix(k, "fleet.client_options.") && secretClientOption(strings.TrimPrefix(k, "fleet.client_options.")):
		return key + "=" + Redacted
	}
	return o
}

// secretClientOption says whether a client preset's option name may carry
// a credential in any preset (its secret tag): a reconnect loop's options
// are numbers, but a preset may one day take a token.
func secretClientOption(name string) bool {
	for _, n := range clientlib.Names() {
		l, _ := clientlib.Lookup(n)
		if optstruct.Secret(l.Options(), name) {
			return true
		}
	}
	return false
}

// urlPasswords returns the password of raw's userinfo as written and, when
// it differs, as decoded; nil when there is none.
func urlPasswords(raw string) []string {
	_, pw, _, ok := splitPassword(raw)
	if !ok || pw == "" {
		return nil
	}
	out := []string{pw}
	if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
		out = append(out, dec)
	}
	return out
}

// splitPassword finds the password in the userinfo of a URL as written,
// without parsing the rest, so it works on URLs url.Parse rejects too:
// raw = before + pw + after.
func splitPassword(raw string) (before, pw, after string, ok bool) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return "", "", "", false
	}
	start := i + len("://")
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	authority := raw[start:end]
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return "", "", "", false
	}
	colon := strings.IndexByte(authority[:at], ':')
	if colon < 0 {
		return "", "", "", false
	}
	return raw[:start+colon+1], authority[colon+1 : at], raw[start+at:], true
}

// maskPassword returns raw with the password of its userinfo, if any,
// replaced by "[redacted]", for messages that quote a URL as written.
func maskPassword(raw string) string {
	before, pw, after, ok := splitPassword(raw)
	if !ok || pw == "" {
		return raw
	}
	return before + Redacted + after
}

// RedactedTarget returns the target's url and header values as they may be
// written to results, redacted by structure as well as by Redact: the
// password of the URL's userinfo goes, and every query value or header value
// that holds a secret too short for Redact to look for everywhere (a
// three-letter key is still a key) goes whole.
func (p *Profile) RedactedTarget() (rawURL string, headers map[string]string) {
	t := &p.Target
	holdsSecret := func(v string) bool {
		for _, s := range t.Secrets {
			if s != "" && len(s) < minSecret && strings.Contains(v, s) {
				return true
			}
		}
		return false
	}
	rawURL = maskPassword(t.URL)
	if i := strings.IndexByte(rawURL, '?'); i >= 0 {
		query, frag, hasFrag := strings.Cut(rawURL[i+1:], "#")
		parts := strings.Split(query, "&")
		for j, part := range parts {
			k, v, _ := strings.Cut(part, "=")
			dec, err := url.QueryUnescape(v)
			if holdsSecret(v) || err == nil && holdsSecret(dec) {
				parts[j] = k + "=" + Redacted
			}
		}
		rawURL = rawURL[:i+1] + strings.Join(parts, "&")
		if hasFrag {
			rawURL += "#" + frag
		}
	}
	rawURL = p.Redact(rawURL)
	if t.Headers != nil {
		headers = make(map[string]string, len(t.Headers))
		for k, v := range t.Headers {
			if holdsSecret(v) {
				v = Redacted
			}
			headers[k] = p.Redact(v)
		}
	}
	return rawURL, headers
}
