package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Load reads the profile at path, applies the --set overrides in sets and
// validates the result. An empty path loads the built-in default profile,
// whose Path is BuiltinPath. The error, if any, is an Errors listing every
// problem found.
func Load(path string, sets []string) (*Profile, error) {
	return LoadScaled(path, sets, Scale{})
}

// readError is the Errors of a profile that could not be read.
func readError(path string, err error) Errors {
	msg := "cannot read the profile: " + err.Error()
	var pe *os.PathError
	if errors.As(err, &pe) {
		msg = "cannot read the profile: " + pe.Err.Error()
	}
	return Errors{{File: path, Msg: msg, err: err}}
}

// readProfile reads the file at path, which may be a pipe (wsstorm run
// <(envsubst < p.toml)) but not a directory or a file too large for a
// profile.
func readProfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("it is a directory; name a profile file in it, e.g. %s", filepath.Join(path, "default.toml"))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxProfileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxProfileBytes {
		return nil, fmt.Errorf("it is larger than %d MiB, far more than a profile takes; is this the right file?", MaxProfileBytes>>20)
	}
	return data, nil
}

// Parse decodes the profile in data over Defaults, applies the --set
// overrides in sets, applies the defaults of each chaos step, expands
// ${NAME} in an external target's url and header values from the
// environment, and validates the result. path names the profile in errors,
// in Path, and, when the profile has no name key, in Name (its base name
// without ".toml"); a relative target.tls.ca_file is read from path's
// directory. SHA256 is the digest of data. The error, if any, is an Errors
// listing every problem found.
//
// A profile that sets no key at all is an error: an empty file is more
// likely a failed write than a wish for every default. A UTF-8 byte order
// mark at the start is allowed.
func Parse(data []byte, path string, sets []string) (*Profile, error) {
	return parse(data, path, sets, osEnvironment())
}

func parse(data []byte, path string, sets []string, env environment) (*Profile, error) {
	return parseScaled(data, path, sets, Scale{}, env)
}

func parseScaled(data []byte, path string, sets []string, sc Scale, env environment) (*Profile, error) {
	if e := sc.check(); e != nil {
		return nil, Errors{e}
	}
	if e := textProblem(path, data); e != nil {
		return nil, Errors{e}
	}
	src := string(data)
	var raw map[string]any
	if _, err := toml.Decode(src, &raw); err != nil {
		return nil, Errors{syntaxError(path, src, err)}
	}
	if len(raw) == 0 {
		what := "it has no keys, only comments"
		if strings.TrimSpace(strings.TrimPrefix(src, "\ufeff")) == "" {
			what = "the file has nothing in it"
			if len(data) > 0 {
				what = "the file has only blanks in it"
			}
		}
		return nil, Errors{{File: path, Msg: "the profile is empty: " + what + "; write the keys that differ from the defaults (see profiles/default.toml), or run `wsstorm run` with no profile for the built-in default"}}
	}

	p := Defaults()
	if path != "" && path != BuiltinPath {
		p.Name = strings.TrimSuffix(filepath.Base(path), ".toml")
	}
	d := newDecoder(path)
	d.lines = indexLines(src)
	root := reflect.ValueOf(&p).Elem()
	d.unify(nil, raw, root)
	for _, s := range sets {
		d.apply(root, s)
	}
	d.resolveSteps(&p)
	d.applyStepSets(&p)
	d.resolveOptions(&p)
	d.protocolDefaults(&p)
	d.hookDefaults(&p)
	d.scriptDefaults(&p)
	sum := sha256.Sum256(data)
	p.Path = path
	p.SHA256 = hex.EncodeToString(sum[:])
	p.Overrides = slices.Clone(sets)
	d.scale(&p, sc)

	c := &checker{p: &p, d: d, env: env, written: map[string]string{}}
	if p.Target.Mode == ModeExternal {
		c.expand()
	}
	c.resolveCAFile(path)
	c.check()
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, d.errs
	}
	return &p, nil
}

// textProblem reports a file that is not UTF-8 text, before the TOML parser
// gives a less helpful message, or nil.
func textProblem(file string, data []byte) *Error {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return &Error{File: file, Line: 1, Msg: "the profile is UTF-16 text: save it as UTF-8, which TOML requires"}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return &Error{File: file, Line: lineOf(data, i), Msg: "has a NUL byte: this is a binary file, not a TOML profile"}
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return &Error{File: file, Line: lineOf(data, i),
			Msg: fmt.Sprintf("invalid UTF-8 (byte 0x%02x): a profile is UTF-8 text; save it as UTF-8, or check that this is the right file", data[i])}
	}
	return nil
}

// lineOf returns the 1-based line of byte offset i in data.
func lineOf(data []byte, i int) int { return bytes.Count(data[:i], []byte{'\n'}) + 1 }

// syntaxError turns an error of the toml package into an Error. The most
// common syntax error, an unquoted string or duration, gets a message of its
// own; otherwise the parser's message is kept. Its line is right, but its
// LastKey is often the enclosing table, so no key is named.
func syntaxError(file, src string, err error) *Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Msg: "invalid TOML: " + strings.TrimPrefix(err.Error(), "toml: "), err: err}
	}
	// Columns are left out: the parser's are often off by one or more.
	e := &Error{File: file, Line: pe.Position.Line, Msg: "invalid TOML: " + pe.Message, err: err}
	if strings.Contains(pe.Message, "strings cannot contain newlines") {
		e.Msg += `: close the string with " on the line where it starts`
	}
	if key, value, ok := assignmentAt(src, pe.Position.Line); ok {
		if hint := quoteHint(key[len(key)-1], value); hint != "" {
			e.Key, e.Msg = keyString(key), hint
		}
	}
	return e
}

var (
	bareDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$`)
	bareWord     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:/-]*$`)
)

// quoteHint explains a value written without the quotes it needs, or
// returns "".
func quoteHint(key, value string) string {
	lower := strings.ToLower(value)
	switch {
	case (lower == "true" || lower == "false") && value != lower:
		return fmt.Sprintf("%s is not a TOML value: write %s in lower case", value, lower)
	case bareDuration.MatchString(value):
		return fmt.Sprintf(`%s is not a TOML value: write durations in quotes, e.g. %s = "%s"`, value, key, value)
	case bareWord.MatchString(value):
		return fmt.Sprintf(`%s is not a TOML value: write strings in quotes, e.g. %s = "%s"`, value, key, value)
	}
	return ""
}

// assignmentAt reads "key = value" on line n of src: the key's full path,
// from the tables above it, and the value as written, without a comment.
func assignmentAt(src string, n int) (key []string, value string, ok bool) {
	start := 0
	for i := 1; i < n; i++ {
		j := strings.IndexByte(src[start:], '\n')
		if j < 0 {
			return nil, "", false
		}
		start += j + 1
	}
	line, _, _ := strings.Cut(src[start:], "\n")
	sc := &lineScanner{src: src[:start], out: map[string]int{}, count: map[string]int{}}
	sc.document()
	table := sc.table
	sc = &lineScanner{src: line}
	segs := sc.keys()
	sc.space()
	if len(segs) == 0 || !sc.peek("=") {
		return nil, "", false
	}
	value, _, _ = strings.Cut(sc.src[sc.pos+1:], "#")
	return join(table, segs...), strings.TrimSpace(value), true
}

// sortErrors orders errors as a reader meets them: the file's by line, those
// with no line after them, then the overrides' in the order given.
func sortErrors(es Errors) {
	rank := func(e *Error) int {
		switch {
		case e.File == SetFile:
			return 2
		case e.Line == 0:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(es, func(a, b *Error) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return a.Line - b.Line
	})
}
