package fleet

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// TestUTF8StreamMatchesValid splits valid and invalid texts at every pair of
// points and checks the streaming verdict equals utf8.Valid's.
func TestUTF8StreamMatchesValid(t *testing.T) {
	texts := []string{
		"", "hello", "héllo wörld", "日本語テキスト", "emoji 🎉🚀 end", "\u00e9\u0301",
		"bad \xff byte", "truncated \xe6\x97", "\xe6\x97", "overlong \xc0\xaf", "surrogate \xed\xa0\x80",
		"lone continuation \x80x", "\xf4\x90\x80\x80 above max", "ok then 🎉",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 { // random bytes, mostly invalid
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		want := utf8.ValidString(text)
		b := []byte(text)
		for i := 0; i <= len(b); i++ {
			for j := i; j <= len(b); j++ {
				var u utf8Stream
				got := u.write(b[:i]) && u.write(b[i:j]) && u.write(b[j:]) && u.end()
				if got != want {
					t.Fatalf("%q split at %d,%d: stream says %v, utf8.Valid %v", text, i, j, got, want)
				}
			}
		}
	}
}
