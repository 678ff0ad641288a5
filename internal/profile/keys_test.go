package profile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wsstorm/wsstorm/internal/action"
)

// TestSetKeys: every key SetKeys lists is one --set takes: setting it
// (under an action that has it, for a chaos step's keys) may give a bad
// value's error, but never an unknown key's.
func TestSetKeys(t *testing.T) {
	keys := SetKeys()
	for _, want := range []string{"fleet.clients", "fleet.reconnect.strategy", "fleet.reconnect.on_close.",
		"chaos", "chaos.0.at", "chaos.0.fraction", "target.capacity.accept_rate", "fleet.session.script.0.send",
		"fleet.session.reply.0.equals", "fleet.session.heartbeat.interval", "fleet.protocol", "fleet.protocol_options.namespace"} {
		if !slices.Contains(keys, want) {
			t.Errorf("SetKeys lacks %s: %v", want, keys)
		}
	}
	for _, key := range keys {
		sets := []string{`fleet.session.script=[{send="hi"}]`, `fleet.session.reply=[{equals="2",send="3"}]`}
		if step, ok := strings.CutPrefix(key, "chaos.0."); ok && step != "at" && step != "action" {
			sets = append(sets, "chaos.0.action="+actionWith(step))
		}
		if strings.HasSuffix(key, ".") {
			key += "1000"
		}
		sets = append(sets, key+"=1")
		_, err := Load("", sets)
		var errs Errors
		errors.As(err, &errs)
		for _, e := range errs {
			if unknownKey(e.Msg) {
				t.Errorf("--set %s: %v", strings.Join(sets, " --set "), e)
			}
		}
	}
}

// unknownKey says whether msg is the error of a key --set does not take,
// not of a value.
func unknownKey(msg string) bool {
	for _, s := range []string{"unknown key", "has no key", "is not an index", "takes no"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return strings.HasPrefix(msg, "index ") // out of range
}

// actionWith names an action whose steps take key.
func actionWith(key string) string {
	for _, name := range action.Names() {
		a, _ := action.Lookup(name)
		if slices.Contains(action.KeysOf(a.Params()), key) {
			return name
		}
	}
	return "none"
}
