package stats

import "testing"

func TestReasonNames(t *testing.T) {
	for _, r := range []Reason{Refused, Timeout, Reset, TLS, Other, BadHandshake, Cancelled, ScriptTimeout, HTTPStatus(100), HTTPStatus(503), HTTPStatus(599)} {
		if got, ok := ParseReason(r.String()); !ok || got != r {
			t.Errorf("ParseReason(%q) = %v, %v, want %v", r.String(), got, ok, r)
		}
	}
	want := map[Reason]string{Refused: "refused", TLS: "tls", BadHandshake: "bad_handshake",
		ScriptTimeout: "script_timeout", HTTPStatus(503): "http_503", 0: "other", -1: "other", httpBase: "other"}
	for r, name := range want {
		if r.String() != name {
			t.Errorf("Reason(%d).String() = %q, want %q", int(r), r.String(), name)
		}
	}
	for _, name := range []string{"", "Refused", "http_", "http_1", "http_99", "http_099", "http_600", "http_+50",
		"http_5030", "http_50a", "http_-50", "http_0503", " http_503", "http_503 ", "unknown"} {
		if r, ok := ParseReason(name); ok {
			t.Errorf("ParseReason(%q) = %v, want no reason", name, r)
		}
	}
}
