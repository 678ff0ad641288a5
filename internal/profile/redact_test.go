package profile

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"wss://h/p":                     "wss://h/p",
		"ws://u:pw@h:1/p?token=abc&x=1": "ws://u:%5Bredacted%5D@h:1/p?token=%5Bredacted%5D&x=%5Bredacted%5D",
		"ws://u@h/p":                    "ws://u@h/p",
		"::not a url":                   "[redacted]",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactShortSecret(t *testing.T) {
	p := &Profile{Target: Target{Secrets: []string{"1", "tok3n-long"}}}
	if got := p.Redact("ws://127.0.0.1:8080/?k=tok3n-long"); got != "ws://127.0.0.1:8080/?k=[redacted]" {
		t.Fatalf("Redact = %q", got)
	}
}
