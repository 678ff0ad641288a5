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

func TestRedactedTargetShortSecrets(t *testing.T) {
	p := &Profile{Target: Target{
		URL:     "wss://bob:pw1@127.0.0.1:8443/ws?k=k9z&room=1#frag",
		Headers: map[string]string{"X-Key": "k9z", "Authorization": "Bearer abc", "X-Plain": "visible"},
		Secrets: []string{"k9z", "abc", "1"},
	}}
	u, h := p.RedactedTarget()
	if want := "wss://bob:[redacted]@127.0.0.1:8443/ws?k=[redacted]&room=[redacted]#frag"; u != want {
		// room=1 holds the one-character secret "1": it goes too, but the
		// host, which also holds a "1", stays readable.
		t.Errorf("url = %q\nwant  %q", u, want)
	}
	for k, want := range map[string]string{"X-Key": Redacted, "Authorization": Redacted, "X-Plain": "visible"} {
		if h[k] != want {
			t.Errorf("header %s = %q, want %q", k, h[k], want)
		}
	}
	if p.Target.Headers["X-Key"] != "k9z" {
		t.Error("RedactedTarget changed the profile")
	}
}
