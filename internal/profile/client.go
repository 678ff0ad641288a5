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
	var given []string
	for _, k := range ClientReplaces() {
		if c.d.given("fleet", "reconnect", k) {
			given = append(given, k)
		}
	}
	if len(given) > 0 {
		what := "is [fleet.reconnect]'s backoff"
		if len(given) > 1 {
			what = fmt.Sprintf("and %s are [fleet.reconnect]'s backoff", strings.Join(given[1:], ", "))
		}
		c.bad([]string{"fleet", "reconnect", given[0]}, "%s, and fleet.client = %q follows the library's own reconnect loop: remove them, and set the library's options in [fleet.client_options] instead (`wsstorm clients %s` lists them); on_close entries still apply, code by code", what, f.Client, f.Client)
	}
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
