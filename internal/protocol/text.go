package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// jsonString returns s as a JSON string, as JavaScript's JSON.stringify
// writes it (no escaping of <, > and &), so that a message framed here is
// the one a JavaScript server echoes back.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// looksLikeJSONObject says whether s, a template, is written as a JSON
// object; its template variables are checked when the fleet parses it.
func looksLikeJSONObject(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
}

// quoteShort quotes s for a message, cut to a readable length.
func quoteShort(s string) string {
	const most = 40
	if len(s) > most {
		return strconv.Quote(s[:most]) + "…"
	}
	return strconv.Quote(s)
}
