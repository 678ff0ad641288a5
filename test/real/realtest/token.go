package realtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
)

// ConnectionToken is a Centrifugo connection token: a JWT signed with
// HS256 by the stack's HMACSecret, whose sub becomes the connection's user
// in Centrifugo's log lines. It has no exp: Centrifugo accepts a token
// without one as one that does not expire.
func (s *Stack) ConnectionToken(sub string) string {
	return HS256(s.HMACSecret, map[string]any{"sub": sub})
}

// HS256 is the JWT of claims signed with HMAC-SHA256 by secret.
func HS256(secret string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err) // claims are the caller's literals
	}
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}
