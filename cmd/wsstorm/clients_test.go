package main

import (
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// TestClientsCmd: wsstorm clients lists every preset with its exact
// version and source; wsstorm clients NAME shows its options with their
// defaults; an unknown name is a usage error that suggests the preset.
func TestClientsCmd(t *testing.T) {
	code, stdout, stderr := wsstorm(t, "clients")
	if code != exitPassed || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, name := range clientlib.Names() {
		l, _ := clientlib.Lookup(name)
		for _, want := range []string{name + " (version " + l.Version() + ")\n", "read from: " + l.Source()} {
			if !strings.Contains(stdout, want) {
				t.Errorf("listing lacks %q:\n%s", want, stdout)
			}
		}
		code, stdout, _ := wsstorm(t, "clients", name)
		if code != exitPassed || !strings.Contains(stdout, "[fleet.client_options]") {
			t.Fatalf("clients %s: exit %d\n%s", name, code, stdout)
		}
		for _, o := range optstruct.Describe(l.Options()) {
			if !strings.Contains(stdout, "    "+o.Name+" = "+o.Default+"\n        "+o.Doc+"\n") {
				t.Errorf("clients %s lacks option %s = %s", name, o.Name, o.Default)
			}
		}
	}
	if strings.Contains(stdout, "  [fleet.client_options]\n") {
		t.Error("the listing of every preset shows options: only a named preset's are shown")
	}
	first := clientlib.Names()[0]
	lib, _, _ := strings.Cut(first, "@")
	code, _, stderr = wsstorm(t, "clients", lib)
	if code != exitUsage || !strings.Contains(stderr, `is not a client preset (did you mean "`+first+`"?)`) {
		t.Errorf("unknown preset: exit %d, stderr %q", code, stderr)
	}
}
