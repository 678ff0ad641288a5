package profile

import (
	"testing"
)

func TestIndexLines(t *testing.T) {
	src := "\ufeff# comment with key = 1 and [table]\n" + // 1
		"name = \"x # not a comment\" # comment\n" + // 2
		"note = \"\"\"\n" + // 3
		"fake = 1\n" + // 4: inside a string
		"[fake]\n" + // 5: inside a string
		"\"\"\"\"\n" + // 6: ends with an extra quote
		"lit = '''\n[also.fake]\n'''\n" + // 7-9
		"arr = [\n  1,\n  # c\n  [2, 3],\n]\n" + // 10-14
		"[fleet]\n" + // 15
		"clients = 5\n" + // 16
		"session.pause = \"1s\"\n" + // 17: dotted key
		"[fleet.reconnect]\n" + // 18
		"on_close = { \"1000\" = \"stop\", 'lit.key' = \"x\", \"a\\\"b\" = 1 }\n" + // 19
		"[[chaos]]\n" + // 20
		"at = \"1s\"\n" + // 21
		"[[chaos]]\n" + // 22
		"  at   =   \"2s\"\n" + // 23
		"[chaos.sub]\n" + // 24: a table in chaos.1
		"k = 1\n" + // 25
		"[[chaos.steps]]\n" + // 26: an array in chaos.1
		"x = 1\n" + // 27
		"[[chaos.steps]]\n" + // 28
		"x = 2\n" + // 29
		"inline = { a = [ { b = 1 },\n  { b = 2 } ] }\n" // 30-31

	want := map[string]int{
		"name":                               2,
		"note":                               3,
		"lit":                                7,
		"arr":                                10,
		"arr.0":                              11,
		"arr.1":                              13,
		"arr.1.1":                            13,
		"fleet":                              15,
		"fleet.clients":                      16,
		"fleet.session":                      17,
		"fleet.session.pause":                17,
		"fleet.reconnect":                    18,
		"fleet.reconnect.on_close":           19,
		"fleet.reconnect.on_close.1000":      19,
		`fleet.reconnect.on_close."lit.key"`: 19,
		`fleet.reconnect.on_close."a\"b"`:    19,
		"chaos":                              20,
		"chaos.0":                            20,
		"chaos.0.at":                         21,
		"chaos.1":                            22,
		"chaos.1.at":                         23,
		"chaos.1.sub":                        24,
		"chaos.1.sub.k":                      25,
		"chaos.1.steps.0.x":                  27,
		"chaos.1.steps.1":                    28,
		"chaos.1.steps.1.x":                  29,
		"chaos.1.steps.1.inline.a.1.b":       31,
	}
	got := indexLines(src)
	for k, line := range want {
		if got[k] != line {
			t.Errorf("line of %s = %d, want %d", k, got[k], line)
		}
	}
	for _, k := range []string{"fake", "also", "also.fake"} {
		if _, ok := got[k]; ok {
			t.Errorf("found key %s inside a string", k)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"clients", "ramp", "max_dialing", "handshake_timeout", "session", "reconnect"}
	tests := []struct{ word, want string }{
		{"clinets", "clients"}, // a swap
		{"client", "clients"},
		{"Clients", "clients"},
		{"sesion", "session"},
		{"handshake_timout", "handshake_timeout"},
		{"rmap", "ramp"},
		{"jitter", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := closest(tt.word, names); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := closest("node", []string{"mode", "nodes", "listen"}); got != "nodes" {
		t.Errorf("closest(node) = %q, want nodes: a tie goes to the longer common prefix", got)
	}
}
