package profile

import (
	"sort"
	"strconv"
	"strings"
)

// The toml package reports lines only for syntax errors, and keeps one
// position per key name, so the keys of the second [[chaos]] share those of
// the first. indexLines finds the line of every key itself.

// keyString writes a key path the way errors and --set show it: dotted, with
// array indexes as segments ("chaos.1.at"), quoting segments that are not
// bare TOML keys.
func keyString(path []string) string {
	var b strings.Builder
	for i, seg := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		if isBareKey(seg) {
			b.WriteString(seg)
		} else {
			b.WriteString(strconv.Quote(seg))
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBareKeyByte(s[i]) {
			return false
		}
	}
	return true
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// join returns path with segs appended, never sharing path's array.
func join(path []string, segs ...string) []string {
	out := make([]string, 0, len(path)+len(segs))
	return append(append(out, path...), segs...)
}

// indexLines maps every key of a TOML document, tables and array elements
// included, to the 1-based line where it first appears. Keys are written by
// keyString. It expects a document the toml package has parsed without error;
// on anything else it returns what it found so far.
func indexLines(src string) map[string]int {
	sc := &lineScanner{
		src:   src,
		out:   make(map[string]int),
		count: make(map[string]int),
	}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			sc.starts = append(sc.starts, i+1)
		}
	}
	sc.document()
	return sc.out
}

type lineScanner struct {
	src    string
	pos    int
	starts []int          // byte offsets where lines 2, 3, ... start
	out    map[string]int // key → line
	count  map[string]int // array of tables → elements so far
	table  []string       // the current table, with array indexes
}

func (sc *lineScanner) line(pos int) int {
	return sort.SearchInts(sc.starts, pos+1) + 1
}

func (sc *lineScanner) record(path []string, pos int) {
	k := keyString(path)
	if _, ok := sc.out[k]; !ok {
		sc.out[k] = sc.line(pos)
	}
}

func (sc *lineScanner) eof() bool { return sc.pos >= len(sc.src) }

func (sc *lineScanner) peek(s string) bool { return strings.HasPrefix(sc.src[sc.pos:], s) }

// space skips blanks on the current line.
func (sc *lineScanner) space() {
	for !sc.eof() && (sc.src[sc.pos] == ' ' || sc.src[sc.pos] == '\t') {
		sc.pos++
	}
}

// gap skips blanks, newlines and comments.
func (sc *lineScanner) gap() {
	for !sc.eof() {
		switch sc.src[sc.pos] {
		case ' ', '\t', '\r', '\n':
			sc.pos++
		case '#':
			sc.skipLine()
		default:
			return
		}
	}
}

func (sc *lineScanner) skipLine() {
	if i := strings.IndexByte(sc.src[sc.pos:], '\n'); i >= 0 {
		sc.pos += i + 1
	} else {
		sc.pos = len(sc.src)
	}
}

func (sc *lineScanner) document() {
	if sc.peek("\ufeff") {
		sc.pos = len("\ufeff")
	}
	for {
		sc.gap()
		if sc.eof() {
			return
		}
		start := sc.pos
		switch {
		case sc.peek("[["):
			sc.pos += 2
			sc.tableArrayHeader(start)
		case sc.peek("["):
			sc.pos++
			sc.tableHeader(start)
		default:
			sc.keyValue(sc.table)
		}
		if sc.pos == start { // not TOML after all: give up on this line
			sc.skipLine()
		}
	}
}

// resolve turns the segments of a header into a path, stepping into the
// latest element of each array of tables on the way.
func (sc *lineScanner) resolve(segs []string) []string {
	var path []string
	for _, seg := range segs {
		path = append(path, seg)
		if n := sc.count[keyString(path)]; n > 0 {
			path = append(path, strconv.Itoa(n-1))
		}
	}
	return path
}

func (sc *lineScanner) tableHeader(start int) {
	segs := sc.keys()
	sc.table = sc.resolve(segs)
	sc.recordAll(sc.table, start)
	sc.skipLine()
}

func (sc *lineScanner) tableArrayHeader(start int) {
	segs := sc.keys()
	if len(segs) == 0 {
		sc.skipLine()
		return
	}
	parent := sc.resolve(segs[:len(segs)-1])
	array := join(parent, segs[len(segs)-1])
	n := sc.count[keyString(array)]
	sc.count[keyString(array)] = n + 1
	sc.table = join(array, strconv.Itoa(n))
	sc.recordAll(sc.table, start)
	sc.skipLine()
}

// recordAll records path and each of its prefixes not seen before.
func (sc *lineScanner) recordAll(path []string, pos int) {
	for i := 1; i <= len(path); i++ {
		sc.record(path[:i], pos)
	}
}

// keyValue reads "key = value" into the table at base.
func (sc *lineScanner) keyValue(base []string) {
	start := sc.pos
	segs := sc.keys()
	if len(segs) == 0 {
		return
	}
	sc.space()
	if !sc.peek("=") {
		return
	}
	sc.pos++
	path := join(base, segs...)
	sc.recordAll(path, start)
	sc.space()
	sc.value(path)
}

// keys reads a dotted key: bare, "basic" or 'literal' segments.
func (sc *lineScanner) keys() []string {
	var segs []string
	for {
		sc.space()
		if sc.eof() {
			return segs
		}
		var seg string
		switch c := sc.src[sc.pos]; {
		case c == '"':
			seg = sc.basicString()
		case c == '\'':
			seg = sc.literalString()
		case isBareKeyByte(c):
			start := sc.pos
			for !sc.eof() && isBareKeyByte(sc.src[sc.pos]) {
				sc.pos++
			}
			seg = sc.src[start:sc.pos]
		default:
			return segs
		}
		segs = append(segs, seg)
		sc.space()
		if !sc.peek(".") {
			return segs
		}
		sc.pos++
	}
}

// value skips one value, recording the elements of arrays and the keys of
// inline tables under path.
func (sc *lineScanner) value(path []string) {
	if sc.eof() {
		return
	}
	switch {
	case sc.peek(`"""`):
		sc.multiline(`"""`, true)
	case sc.peek(`'''`):
		sc.multiline(`'''`, false)
	case sc.peek(`"`):
		sc.basicString()
	case sc.peek(`'`):
		sc.literalString()
	case sc.peek("["):
		sc.pos++
		for i := 0; ; i++ {
			sc.gap()
			if sc.eof() || sc.peek("]") {
				break
			}
			start := sc.pos
			el := join(path, strconv.Itoa(i))
			sc.record(el, start)
			sc.value(el)
			sc.gap()
			if sc.peek(",") {
				sc.pos++
			} else if sc.pos == start {
				break
			}
		}
		if sc.peek("]") {
			sc.pos++
		}
	case sc.peek("{"):
		sc.pos++
		for {
			sc.gap()
			if sc.eof() || sc.peek("}") {
				break
			}
			start := sc.pos
			sc.keyValue(path)
			sc.gap()
			if sc.peek(",") {
				sc.pos++
			} else if sc.pos == start {
				break
			}
		}
		if sc.peek("}") {
			sc.pos++
		}
	default: // number, boolean, date: no delimiters inside
		for !sc.eof() && !strings.ContainsRune(",]}\n\r#", rune(sc.src[sc.pos])) {
			sc.pos++
		}
	}
}

// basicString reads a "string" and returns its value.
func (sc *lineScanner) basicString() string {
	sc.pos++ // "
	var b strings.Builder
	for !sc.eof() {
		c := sc.src[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			return b.String()
		case c == '\n':
			return b.String()
		case c == '\\' && sc.pos+1 < len(sc.src):
			sc.pos += 2
			sc.escape(&b, sc.src[sc.pos-1])
		default:
			b.WriteByte(c)
			sc.pos++
		}
	}
	return b.String()
}

// escape writes the character of the escape sequence \c, reading any hex
// digits that follow.
func (sc *lineScanner) escape(b *strings.Builder, c byte) {
	hex := 0
	switch c {
	case 'b':
		b.WriteByte('\b')
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'f':
		b.WriteByte('\f')
	case 'r':
		b.WriteByte('\r')
	case 'e':
		b.WriteByte(0x1b)
	case 'x':
		hex = 2
	case 'u':
		hex = 4
	case 'U':
		hex = 8
	default:
		b.WriteByte(c)
	}
	if hex == 0 || sc.pos+hex > len(sc.src) {
		return
	}
	r, err := strconv.ParseUint(sc.src[sc.pos:sc.pos+hex], 16, 32)
	if err != nil {
		return
	}
	sc.pos += hex
	b.WriteRune(rune(r))
}

func (sc *lineScanner) literalString() string {
	sc.pos++ // '
	end := strings.IndexAny(sc.src[sc.pos:], "'\n")
	if end < 0 {
		s := sc.src[sc.pos:]
		sc.pos = len(sc.src)
		return s
	}
	s := sc.src[sc.pos : sc.pos+end]
	sc.pos += end
	if sc.src[sc.pos] == '\'' {
		sc.pos++
	}
	return s
}

// multiline skips a multi-line string delimited by delim, which may end with
// up to two more quotes than the delimiter.
func (sc *lineScanner) multiline(delim string, escapes bool) {
	sc.pos += len(delim)
	for !sc.eof() {
		if escapes && sc.src[sc.pos] == '\\' {
			sc.pos += 2
			continue
		}
		if sc.peek(delim) {
			sc.pos += len(delim)
			for i := 0; i < 2 && sc.peek(delim[:1]); i++ {
				sc.pos++
			}
			return
		}
		sc.pos++
	}
	sc.pos = min(sc.pos, len(sc.src))
}
