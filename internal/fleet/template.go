package fleet

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/wsstorm/wsstorm/internal/profile"
	"github.com/wsstorm/wsstorm/internal/tmpl"
)

// The variables of a client's URL and messages, numbered as a tmpl.Part's
// Var numbers them: by their place in profile.ClientVars.
const (
	varClient  = iota // the client's index, from 0
	varSession        // the number of the client's connection, from 1
	varKey            // 16 hex digits from the run's seed and the client
	varUUID           // a version 4 UUID from the run's seed and the client
	varSeq            // messages: the message's number in the session, from 1; URLs: the attempt's number
)

// template is a client's URL or message, parsed once by package tmpl so
// that rendering it is appending literals and numbers.
type template struct{ tmpl.Template }

// parseTemplate parses s; a reference to an unknown variable, or half a
// reference, is an error (JSON's braces are text).
func parseTemplate(s string) (template, error) {
	t, err := tmpl.Parse(s, profile.ClientVars())
	return template{t}, err
}

// tmplValues are the values of the variables for one rendering.
type tmplValues struct {
	seed    uint64
	client  int
	session int64
	seq     int64
}

// append appends t rendered with vals to dst.
func (t template) append(dst []byte, vals tmplValues) []byte {
	for _, p := range t.Parts() {
		dst = append(dst, p.Lit...)
		switch p.Var {
		case varClient:
			dst = strconv.AppendInt(dst, int64(vals.client), 10)
		case varSession:
			dst = strconv.AppendInt(dst, vals.session, 10)
		case varSeq:
			dst = strconv.AppendInt(dst, vals.seq, 10)
		case varKey:
			dst = appendClientKey(dst, vals.seed, vals.client)
		case varUUID:
			dst = appendClientUUID(dst, vals.seed, vals.client)
		}
	}
	return dst
}

// Domains keep the values derived for templates apart from each other and
// from the clients' random streams (ClientRand), so adding a template to a
// profile changes no backoff delay.
const (
	keyDomain  = 0x6b65792d77737374 // "key-wsst"
	uuidDomain = 0x757569642d777373 // "uuid-wss"
)

// clientValue derives a stable 64-bit value of (seed, client) in a domain.
func clientValue(seed uint64, client int, domain uint64) uint64 {
	return mix64(mix64(seed^domain) ^ mix64(uint64(client)+domain))
}

// appendClientKey appends the client's {{key}}: 16 lower-case hex digits,
// the same for every session of the client in runs of the same seed.
func appendClientKey(dst []byte, seed uint64, client int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], clientValue(seed, client, keyDomain))
	return hex.AppendEncode(dst, b[:])
}

// appendClientUUID appends the client's {{uuid}}: 128 bits derived as the
// key is, with the version (4) and variant (10) bits of RFC 9562 set, as
// 8-4-4-4-12 hex digits.
func appendClientUUID(dst []byte, seed uint64, client int) []byte {
	var b [16]byte
	hi := clientValue(seed, client, uuidDomain)
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], mix64(hi^uuidDomain))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	dst = hex.AppendEncode(dst, b[0:4])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[4:6])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[6:8])
	dst = append(dst, '-')
	dst = hex.AppendEncode(dst, b[8:10])
	dst = append(dst, '-')
	return hex.AppendEncode(dst, b[10:])
}
