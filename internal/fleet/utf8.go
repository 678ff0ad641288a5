package fleet

import "unicode/utf8"

// utf8Stream checks that a text message arriving in chunks is valid UTF-8
// (RFC 6455 §8.1; gorilla/websocket does not check it), carrying a rune split
// between chunks over to the next, without allocating.
type utf8Stream struct {
	pending [utf8.UTFMax]byte
	n       int
}

// write checks the next chunk; false once the message is known to be invalid.
func (u *utf8Stream) write(p []byte) bool {
	for u.n > 0 && len(p) > 0 {
		u.pending[u.n] = p[0]
		u.n++
		p = p[1:]
		if utf8.FullRune(u.pending[:u.n]) {
			r, size := utf8.DecodeRune(u.pending[:u.n])
			if r == utf8.RuneError && size <= 1 || size != u.n {
				return false
			}
			u.n = 0
		}
	}
	if u.n > 0 {
		return true // the chunk ended inside the pending rune
	}
	// Hold back an incomplete rune at the end of the chunk.
	tail := 0
	for j := len(p) - 1; j >= 0 && j >= len(p)-(utf8.UTFMax-1); j-- {
		if utf8.RuneStart(p[j]) {
			if !utf8.FullRune(p[j:]) {
				tail = len(p) - j
			}
			break
		}
	}
	if !utf8.Valid(p[:len(p)-tail]) {
		return false
	}
	u.n = copy(u.pending[:], p[len(p)-tail:])
	return true
}

// end reports whether the message ended on a complete rune.
func (u *utf8Stream) end() bool { return u.n == 0 }
