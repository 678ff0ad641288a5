package profile

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/wsstorm/wsstorm/internal/clientlib"
	"github.com/wsstorm/wsstorm/internal/optstruct"
)

// ClientReplaces lists the keys of [fleet.reconnect] a client preset
// replaces: the library's own loop sets its delays, its limits, and what
// it does after the close codes on_close does not name. A profile with
// fleet.client may not give them; its on_close entries still layer over
// the library's decisions, code by code.
func ClientReplaces() []string {
	return []string{"strategy", "min", "max", "base", "cap", "first_delay", "max_attempts", "honor_retry_after", "on_close_default"}
}

// userGave says whether the user gave the key at path: in their profile or
// with --set. The built-in default's own keys are not the user's: they
// describe its generic backoff, so that `wsstorm run --set
// fleet.client=...` runs the default scenario with the library's loop in
// their place.
func (c *checker) userGave(path ...string) bool {
	src, ok := c.d.seen[keyString(path)]
	return ok && (src.set || c.p.Path != BuiltinPath)
}

// replacedGiven lists the keys of ClientReplaces the user gave.
func (c *checker) replacedGiven() []string {
	var given []string
	for _, k := range ClientReplaces() {
		if c.userGave("fleet", "reconnect", k) {
			given = append(given, k)
		}
	}
	return given
}

// userOnClose keeps of on_close the entries the user gave: with a client
// preset they layer over the library's decisions, code by code, and the
// defaults' entries (1000 stops, 1012 reconnects: a compliant client) must
// not, since the library decides those codes its own way.
func (c *checker) userOnClose() {
	r := &c.p.Fleet.Reconnect
	kept := map[string]string{}
	for code, a := range r.OnClose {
		if c.userGave("fleet", "reconnect", "on_close", code) {
			kept[code] = a
		}
	}
	r.OnClose = kept
}

// client checks fleet.client and its options, and builds the preset.
func (c *checker) client() {
	f := &c.p.Fleet
	if f.Client == "" {
		return
	}
	path := []string{"fleet", "client"}
	l, ok := clientlib.Lookup(f.Client)
	if !ok {
		names := clientlib.Names()
		s := clientlib.Suggest(f.Client)
		if s == "" {
			s = closest(f.Client, names)
		}
		hint := ""
		if s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		c.bad(path, "%q is not a client preset%s: use one of %s, or remove it for [fleet.reconnect]'s backoff", f.Client, hint, strings.Join(names, ", "))
		return
	}
	if given := c.replacedGiven(); len(given) > 0 {
		also, them := "", "it"
		if len(given) > 1 {
			also, them = fmt.Sprintf(" (as are %s)", strings.Join(given[1:], ", ")), "them"
		}
		c.bad([]string{"fleet", "reconnect", given[0]}, "is part of [fleet.reconnect]'s generic backoff%s, which fleet.client = %q replaces with the library's own reconnect loop: remove %s, and set the library's options in [fleet.client_options] instead (`wsstorm clients %s` lists them); on_close entries still apply, code by code", also, f.Client, them, f.Client)
	}
	c.userOnClose()
	opts := f.ClientOptions.Params
	if opts == nil {
		if c.d.errs.under("fleet.client_options") {
			return
		}
		opts = l.Options() // a profile built in code: the defaults
		f.ClientOptions.Params = opts
	}
	if reflect.TypeOf(opts) != reflect.TypeOf(l.Options()) {
		c.bad([]string{"fleet", "client_options"}, "are %T, not the options of %s (%T)", opts, f.Client, l.Options())
		return
	}
	if c.d.errs.under("fleet.client_options") {
		return
	}
	pr, err := l.Build(opts)
	if err != nil {
		where := []string{"fleet", "client_options"}
		var oe *optstruct.Error
		if errors.As(err, &oe) {
			where = join(where, oe.Key)
		}
		c.bad(where, "%s", oeMessage(err))
		return
	}
	f.ClientOptions.Preset = pr
}
