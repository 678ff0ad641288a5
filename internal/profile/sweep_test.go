package profile

import (
	"strings"
	"testing"
)

func TestSweepSection(t *testing.T) {
	p, err := Parse([]byte("[sweep]\nmax_attempt_rate = 1500\n"), "p.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sweep.MaxAttemptRate != 1500 {
		t.Fatalf("max_attempt_rate = %v", p.Sweep.MaxAttemptRate)
	}
	if _, err := Parse([]byte("name = \"x\"\n"), "p.toml", []string{"sweep.max_attempt_rate=-1"}); err == nil || !strings.Contains(err.Error(), "sweep.max_attempt_rate") {
		t.Fatalf("negative rate: %v", err)
	}
	if _, err := Parse([]byte("[sweep]\nmax_rate = 1\n"), "p.toml", nil); err == nil || !strings.Contains(err.Error(), "max_attempt_rate") {
		t.Fatalf("unknown key: %v", err)
	}
}
